//! Classifies the changes between two policy versions (placeholder; being written).
