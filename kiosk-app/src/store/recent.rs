//! Recent approved passages, for anti-passback after a restart.

use rusqlite::params;

use crate::policy::{PassageKey, RecentPassages};
use crate::store::{Store, StoreError};

impl Store {
    /// The approved passages recorded at or after `since_unix_ms`, as
    /// anti-passback keys with their time in Unix seconds.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn recent_passages(&self, since_unix_ms: i64) -> Result<RecentPassages, StoreError> {
        let db = |e| StoreError::from_sqlite(e, self.path());
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT issuing_state, document_number, time_unix_ms FROM passage
                 WHERE decision = 'approved' AND time_unix_ms >= ?1 AND document_number != ''",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![since_unix_ms], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })
            .map_err(db)?;
        let mut recent = RecentPassages::default();
        for row in rows {
            let (state, number, ms) = row.map_err(db)?;
            recent.insert(PassageKey::of(&state, &number), ms.div_euclid(1000));
        }
        Ok(recent)
    }
}
