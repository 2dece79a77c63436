//! `soql_query`: the first page, then `nextRecordsUrl` until Salesforce says `done` or the row limit is
//! reached, or the host's byte budget is spent, whichever comes first (no further page is fetched). A result
//! cut by a limit says so, with how many records were left out.

use reqwest::Method;
use serde_json::{Map, Value};
use tributary_core::{Data, Error, Output, Result, Truncation, TruncationReason};

use crate::connector::SalesforceConnector;

/// The prefix every `nextRecordsUrl` must have: pages are only ever fetched from the org's own data API.
const DATA_PREFIX: &str = "/services/data/";

impl SalesforceConnector {
    /// Runs a SOQL query (already checked by `plan`) and returns at most `limit` records.
    pub(crate) async fn run_query(
        &self,
        soql: &str,
        limit: u64,
        budget: &tributary_core::Budget,
    ) -> Result<Output> {
        let mut meter = budget.meter();
        let mut over_budget = false;
        let session = &self.session;
        let mut answer = session
            .send(Method::GET, &session.data_path("query/"), &[("q", soql)], None)
            .await?;
        let mut records: Vec<Map<String, Value>> = Vec::new();
        let total = answer.body.get("totalSize").and_then(Value::as_u64);
        loop {
            // The page's records are moved out of the answer, not copied (the rest of it is read below).
            let page = match answer.body.get_mut("records").map(Value::take) {
                Some(Value::Array(page)) => page,
                _ => Vec::new(),
            };
            for record in page {
                if let Value::Object(record) = record {
                    if !meter.admit_bytes(tributary_core::budget::json_size(&record) + 1) {
                        over_budget = true;
                        break;
                    }
                    records.push(record);
                }
            }
            let done = answer.body.get("done").and_then(Value::as_bool).unwrap_or(true);
            if over_budget || records.len() as u64 >= limit || done {
                break;
            }
            let next = answer
                .body
                .get("nextRecordsUrl")
                .and_then(Value::as_str)
                .filter(|next| next.starts_with(DATA_PREFIX) && !next.contains(".."))
                .ok_or_else(|| {
                    Error::internal("Salesforce said more records follow but gave no usable nextRecordsUrl")
                })?
                .to_owned();
            answer = session.send(Method::GET, &next, &[], None).await?;
        }
        let more = records.len() as u64 > limit || total.is_some_and(|total| total > records.len() as u64);
        records.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let returned = records.len() as u64;
        let data = Data::Records { records };
        let omitted = total.map(|total| total.saturating_sub(returned));
        if over_budget {
            let cut = Truncation::new(
                TruncationReason::ByteLimit,
                meter.max_bytes().unwrap_or_default(),
                returned,
                omitted,
            );
            return Ok(Output::bounded(data, Some(cut)));
        }
        let cut = Truncation::new(TruncationReason::RowLimit, limit, returned, omitted);
        Ok(Output::bounded(data, more.then_some(cut)))
    }
}
