//! The Models API: what models the service offers.

use futures_util::Stream;
use nanobanana_wire::Endpoint;
use nanobanana_wire::{ListModelsResponse, Model};
use reqwest::Method;

use crate::client::{Client, RequestOptions};
use crate::error::Error;
use crate::http::Call;
use crate::paging::paginate;
use crate::urls::model_id;

/// The Models API of a [`Client`]: `client.models()`.
#[derive(Clone, Copy, Debug)]
pub struct Models<'c> {
    client: &'c Client,
}

impl<'c> Models<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Lists the models, fetching pages as the stream is read.
    pub fn list(
        &self,
        page_size: Option<u32>,
    ) -> impl Stream<Item = Result<Model, Error>> + Send + Unpin + use<> {
        paginate(
            self.client.transport.clone(),
            self.client.transport.endpoints.models(None),
            Endpoint::ModelList,
            page_size,
            |page: ListModelsResponse| (page.models, page.next_page_token),
        )
    }

    /// Gets one model (`gemini-3-pro-image` or `models/gemini-3-pro-image`):
    /// `GET /{version}/models/{model}`.
    pub async fn get(&self, model: &str) -> Result<Model, Error> {
        let id = model_id(model)?;
        let call = Call::new(
            Method::GET,
            self.client.transport.endpoints.models(Some(id)),
            Endpoint::ModelGet,
        )
        .with_model(id);
        let answer = self.client.execute(&call, &RequestOptions::new()).await?;
        self.client.transport.decode(&answer.body, &call)
    }
}
