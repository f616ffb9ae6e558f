//! The service's conditions a server can play: chaos (seeded faults and delays,
//! [`chaos`](crate::chaos)) and quotas (per-model rate limits, [`quota`](crate::quota)), with
//! the clock their windows are read from. A server without either has no `Conditions` at all,
//! so the request path pays one `Option` check for them.

use serde_json::Value;

use nanobanana_wire::Endpoint;

use crate::chaos::{Chaos, ChaosState, millis};
use crate::fault::Fault;
use crate::quota::{Clock, QuotaState, Quotas};
use crate::reply::Reply;
use crate::server::Request;

/// Chaos and quotas at work in a server.
pub(crate) struct Conditions {
    chaos: Option<ChaosState>,
    quotas: Option<QuotaState>,
    clock: Clock,
}

impl Conditions {
    /// The conditions, or `None` when neither chaos nor quotas are configured.
    pub(crate) fn new(chaos: Option<Chaos>, quotas: Option<Quotas>, clock: Clock) -> Option<Self> {
        if chaos.is_none() && quotas.is_none() {
            return None;
        }
        Some(Self {
            chaos: chaos.map(ChaosState::new),
            quotas: quotas.map(QuotaState::new),
            clock,
        })
    }

    /// Starts the chaos streams over and empties the quota windows.
    pub(crate) fn reset(&self) {
        if let Some(chaos) = &self.chaos {
            chaos.reset();
        }
        if let Some(quotas) = &self.quotas {
            quotas.reset();
        }
    }

    /// Serves a request under the conditions: the quota check (a refusal is the answer), then
    /// the chaos draw under the explicit `fault`, then `serve` with the fault in force; a
    /// `cut-body` is placed in the answer it made (`None`: a request forwarded to the record
    /// upstream, whose answer is not known yet, keeps the drawn status or delay only).
    pub(crate) fn serve(
        &self,
        request: &Request,
        endpoint: Option<Endpoint>,
        model: Option<&str>,
        fault: Fault,
        serve: impl FnOnce(Fault) -> (Option<Reply>, Fault),
    ) -> (Option<Reply>, Fault) {
        let explicit = fault.status.is_some() || fault.reset_after == Some(0);
        if !explicit
            && let (Some(quotas), Some(model)) = (&self.quotas, model)
            && matches!(
                endpoint,
                Some(Endpoint::GenerateContent | Endpoint::StreamGenerateContent)
            )
        {
            let tokens = if quotas.counts_tokens(model) {
                serde_json::from_slice::<Value>(&request.body)
                    .map_or(0, |body| crate::simulate::input_tokens(model, &body))
            } else {
                0
            };
            if let Err(mut refusal) = quotas.admit(model, tokens, self.clock.now_millis()) {
                refusal.note = Some("quota exceeded".to_owned());
                return (Some(refusal), fault);
            }
        }
        let Some(chaos) = &self.chaos else {
            return serve(fault);
        };
        let drawn = chaos.draw(endpoint);
        let (reply, mut fault) = serve(drawn.fault.clone().merged_with(&fault));
        let Some(mut reply) = reply else {
            return (None, fault);
        };
        let mut notes: Vec<String> = drawn.label.into_iter().collect();
        if let Some(share) = drawn.cut_at
            && fault.reset_after.is_none()
        {
            let cut = (reply.body_len() as f64 * share) as u64;
            fault.reset_after = Some(cut.max(1));
        }
        if let Some(delay) = drawn
            .fault
            .delay
            .filter(|_| fault.delay == drawn.fault.delay)
        {
            notes.push(format!("chaos delay {}", millis(delay)));
        }
        if !notes.is_empty() {
            reply.note = Some(notes.join(", "));
        }
        (Some(reply), fault)
    }
}
