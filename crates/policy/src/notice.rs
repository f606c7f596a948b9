//! Renders the public privacy notice from the policy alone (placeholder; being written).
