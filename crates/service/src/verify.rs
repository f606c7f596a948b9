//! `mamori verify`: the records an access decision rests on (principals' channels and policy
//! versions, consents, suspensions, staff roles) still carry Mamori's MAC, so none was changed
//! by a database edit (issue 20; APPI 18, 21, 27, 35; seed 001 Arts. 5-6, seed 003 Arts. 9-10).
//! Anyone who holds the data folder may run it, like `mamori audit verify`.

use mamori_store::facts::FactsReport;

use crate::{Mamori, Result};

impl Mamori {
    /// Exit 1 naming the first row that does not verify; else the counts checked.
    pub async fn verify_facts(&self) -> Result<FactsReport> {
        Ok(self.store.verify_facts().await?)
    }
}
