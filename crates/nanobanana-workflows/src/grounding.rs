//! Grounding with Google Search (SPEC.md §3): typed access to the metadata (the search entry
//! point, web and image sources, queries, supports mapped back to spans of the answer's text)
//! and the attribution the display duties require, as data and as an HTML fragment.

use std::ops::Range;

use nanobanana_wire::{GroundingChunk, GroundingMetadata, GroundingSupport, Part};

/// A typed view of a candidate's `groundingMetadata`, borrowed from the answer.
#[derive(Clone, Copy, Debug)]
pub struct Grounding<'a> {
    metadata: &'a GroundingMetadata,
    parts: &'a [Part],
}

/// One source the answer was grounded on (`groundingChunks[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source<'a> {
    /// A web page.
    Web(WebSource<'a>),
    /// An image found by image search, with the page that contains it.
    Image(ImageSource<'a>),
    /// A chunk of a kind this crate does not know.
    Other,
}

/// A web source: `web {uri, title}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebSource<'a> {
    /// The page (often a `vertexaisearch` redirect to it).
    pub uri: Option<&'a str>,
    /// Its title (often the domain).
    pub title: Option<&'a str>,
}

/// An image source: `image {sourceUri, imageUri, title, domain}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageSource<'a> {
    /// The web page that contains the image: what attribution must link to.
    pub page_uri: Option<&'a str>,
    /// The image itself.
    pub image_uri: Option<&'a str>,
    /// The page's title.
    pub title: Option<&'a str>,
    /// The page's domain.
    pub domain: Option<&'a str>,
}

/// A span of the answer supported by sources (`groundingSupports[i]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Support<'a> {
    text: Option<&'a str>,
    span: Option<Range<usize>>,
    part_index: Option<usize>,
    chunk_indices: Vec<usize>,
    confidence: &'a [f64],
}

impl<'a> Support<'a> {
    /// The supported text as the service quoted it (`segment.text`).
    pub fn text(&self) -> Option<&'a str> {
        self.text
    }

    /// Where the supported text is in the answer's text (`Generation::text()`, byte offsets),
    /// when it could be found: by `partIndex` and the offsets, by the offsets in the whole
    /// text, or by searching for the quoted text.
    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    /// `segment.partIndex`, if given.
    pub fn part_index(&self) -> Option<usize> {
        self.part_index
    }

    /// The indices of the supporting sources in [`Grounding::sources`].
    pub fn source_indices(&self) -> &[usize] {
        &self.chunk_indices
    }

    /// The confidence of each supporting source, in the same order.
    pub fn confidence_scores(&self) -> &'a [f64] {
        self.confidence
    }
}

impl<'a> Grounding<'a> {
    pub(crate) fn new(metadata: &'a GroundingMetadata, parts: &'a [Part]) -> Self {
        Self { metadata, parts }
    }

    /// The metadata as received.
    pub fn metadata(&self) -> &'a GroundingMetadata {
        self.metadata
    }

    /// The HTML and CSS of the search suggestions chip (`searchEntryPoint.renderedContent`),
    /// which must be shown with grounded results.
    pub fn entry_point_html(&self) -> Option<&'a str> {
        self.metadata
            .search_entry_point
            .as_ref()
            .and_then(|entry| entry.rendered_content.as_deref())
    }

    /// Every source, in `groundingChunks` order (what support indices refer to).
    pub fn sources(&self) -> Vec<Source<'a>> {
        self.metadata.grounding_chunks.iter().map(source).collect()
    }

    /// The web sources, in order.
    pub fn web_sources(&self) -> Vec<WebSource<'a>> {
        self.sources()
            .into_iter()
            .filter_map(|s| match s {
                Source::Web(web) => Some(web),
                _ => None,
            })
            .collect()
    }

    /// The image sources, in order.
    pub fn image_sources(&self) -> Vec<ImageSource<'a>> {
        self.sources()
            .into_iter()
            .filter_map(|s| match s {
                Source::Image(image) => Some(image),
                _ => None,
            })
            .collect()
    }

    /// The web search queries the model ran.
    pub fn web_search_queries(&self) -> &'a [String] {
        &self.metadata.web_search_queries
    }

    /// The image search queries the model ran for visual context.
    pub fn image_search_queries(&self) -> &'a [String] {
        &self.metadata.image_search_queries
    }

    /// The supports, each mapped to its span of the answer's text.
    pub fn supports(&self) -> Vec<Support<'a>> {
        let text = TextMap::new(self.parts);
        self.metadata
            .grounding_supports
            .iter()
            .map(|support| text.support(support))
            .collect()
    }

    /// What the display duties require (SPEC.md §3): the search entry point, and a link per
    /// source to the page it came from (for image sources, the containing page, not the image
    /// file, with the image as a single-click path to it). Sources without an `http(s)` page
    /// link are left out; repeated pages appear once.
    pub fn attribution(&self) -> Attribution {
        let mut links: Vec<AttributionLink> = Vec::new();
        for s in self.sources() {
            let link = match s {
                Source::Web(web) => web.uri.filter(|u| is_http(u)).map(|uri| AttributionLink {
                    kind: SourceKind::Web,
                    title: web.title.unwrap_or(uri).to_owned(),
                    page_url: uri.to_owned(),
                    image_url: None,
                    domain: None,
                }),
                Source::Image(image) => {
                    image
                        .page_uri
                        .filter(|u| is_http(u))
                        .map(|page| AttributionLink {
                            kind: SourceKind::Image,
                            title: image.title.or(image.domain).unwrap_or(page).to_owned(),
                            page_url: page.to_owned(),
                            image_url: image.image_uri.filter(|u| is_http(u)).map(str::to_owned),
                            domain: image.domain.map(str::to_owned),
                        })
                }
                Source::Other => None,
            };
            if let Some(link) = link
                && !links.iter().any(|l| l.page_url == link.page_url)
            {
                links.push(link);
            }
        }
        Attribution {
            entry_point_html: self.entry_point_html().map(str::to_owned),
            links,
        }
    }
}

fn source(chunk: &GroundingChunk) -> Source<'_> {
    if let Some(image) = &chunk.image {
        return Source::Image(ImageSource {
            page_uri: image.source_uri.as_deref(),
            image_uri: image.image_uri.as_deref(),
            title: image.title.as_deref(),
            domain: image.domain.as_deref(),
        });
    }
    if let Some(web) = &chunk.web {
        return Source::Web(WebSource {
            uri: web.uri.as_deref(),
            title: web.title.as_deref(),
        });
    }
    Source::Other
}

fn is_http(url: &str) -> bool {
    let url = url.trim_start().as_bytes();
    let starts = |scheme: &str| {
        url.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme.as_bytes()))
    };
    starts("https://") || starts("http://")
}

/// The answer's non-thought text and where each text part starts in it.
struct TextMap<'a> {
    text: String,
    /// (part index, offset in `text`, the part's text).
    parts: Vec<(usize, usize, &'a str)>,
}

impl<'a> TextMap<'a> {
    fn new(parts: &'a [Part]) -> Self {
        let mut text = String::new();
        let mut offsets = Vec::new();
        for (index, part) in parts.iter().enumerate() {
            if part.is_thought() || part.inline_data.is_some() {
                continue;
            }
            if let Some(t) = part.text.as_deref() {
                offsets.push((index, text.len(), t));
                text.push_str(t);
            }
        }
        Self {
            text,
            parts: offsets,
        }
    }

    fn support(&self, support: &'a GroundingSupport) -> Support<'a> {
        let segment = support.segment.as_ref();
        let quoted = segment.and_then(|s| s.text.as_deref());
        let index = |n: Option<i64>| n.and_then(|n| usize::try_from(n).ok());
        let part_index = segment.and_then(|s| index(s.part_index));
        let start = segment.and_then(|s| index(s.start_index)).unwrap_or(0);
        let end = segment
            .and_then(|s| index(s.end_index))
            .or_else(|| quoted.map(|q| start.saturating_add(q.len())));
        Support {
            text: quoted,
            span: end.and_then(|end| self.locate(part_index, start..end, quoted)),
            part_index,
            chunk_indices: support
                .grounding_chunk_indices
                .iter()
                .filter_map(|&i| usize::try_from(i).ok())
                .collect(),
            confidence: &support.confidence_scores,
        }
    }

    fn locate(
        &self,
        part_index: Option<usize>,
        range: Range<usize>,
        quoted: Option<&str>,
    ) -> Option<Range<usize>> {
        let fits = |r: &Range<usize>| {
            r.start <= r.end
                && self
                    .text
                    .get(r.clone())
                    .is_some_and(|slice| quoted.is_none_or(|q| q == slice))
        };
        if let Some(part) = part_index
            && let Some(&(_, offset, _)) = self.parts.iter().find(|(i, _, _)| *i == part)
        {
            let shifted = offset.saturating_add(range.start)..offset.saturating_add(range.end);
            if fits(&shifted) {
                return Some(shifted);
            }
        }
        if fits(&range) {
            return Some(range);
        }
        let quoted = quoted.filter(|q| !q.is_empty())?;
        let at = self.text.find(quoted)?;
        Some(at..at + quoted.len())
    }
}

/// Web page or image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A web page.
    Web,
    /// An image, attributed to the page that contains it.
    Image,
}

/// One attribution link: the page to link to, its title, and for an image source the image to
/// show as a single-click path to the page.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttributionLink {
    /// Web page or image.
    pub kind: SourceKind,
    /// The text of the link (the title; else the domain; else the URL).
    pub title: String,
    /// The page to link to (for an image, the containing page, never the image file).
    pub page_url: String,
    /// For an image source: the image, to show as a link to `page_url`.
    pub image_url: Option<String>,
    /// For an image source: the page's domain.
    pub domain: Option<String>,
}

/// What must be shown with a grounded answer, as data and as HTML ([`to_html`](Self::to_html)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attribution {
    /// The search suggestions chip, HTML and CSS from the service, to show unchanged.
    pub entry_point_html: Option<String>,
    /// The sources, in the service's order, one per page.
    pub links: Vec<AttributionLink>,
}

impl Attribution {
    /// A ready HTML fragment: the service's search chip unchanged (it is the service's own
    /// markup, to be shown as given), then a list of sources, each a link to its page
    /// (`target="_blank" rel="noopener noreferrer"`); an image source shows its image inside
    /// that same link (one click from the image to the page). Every title, URL and domain is
    /// HTML-escaped; only `http(s)` URLs are used.
    pub fn to_html(&self) -> String {
        let mut html = String::from("<div class=\"nanobanana-attribution\">\n");
        if let Some(chip) = &self.entry_point_html {
            html.push_str(chip.trim_end());
            html.push('\n');
        }
        if !self.links.is_empty() {
            html.push_str("<ul class=\"nanobanana-sources\">\n");
            for link in &self.links {
                let page = escape(&link.page_url);
                let title = escape(&link.title);
                let open =
                    format!("<a href=\"{page}\" target=\"_blank\" rel=\"noopener noreferrer\">");
                match (link.kind, &link.image_url) {
                    (SourceKind::Image, image) => {
                        html.push_str("<li class=\"nanobanana-source-image\">");
                        if let Some(image) = image {
                            html.push_str(&format!(
                                "{open}<img src=\"{}\" alt=\"{title}\" loading=\"lazy\"></a> ",
                                escape(image)
                            ));
                        }
                        html.push_str(&format!("{open}{title}</a>"));
                        if let Some(domain) = &link.domain {
                            html.push_str(&format!(
                                " <span class=\"nanobanana-source-domain\">{}</span>",
                                escape(domain)
                            ));
                        }
                        html.push_str("</li>\n");
                    }
                    (SourceKind::Web, _) => {
                        html.push_str(&format!(
                            "<li class=\"nanobanana-source-web\">{open}{title}</a></li>\n"
                        ));
                    }
                }
            }
            html.push_str("</ul>\n");
        }
        html.push_str("</div>\n");
        html
    }
}

/// Escapes text for HTML content and double- or single-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parts(value: serde_json::Value) -> Vec<Part> {
        serde_json::from_value(value).unwrap()
    }

    fn metadata(value: serde_json::Value) -> GroundingMetadata {
        serde_json::from_value(value).unwrap()
    }

    /// WIRE.md: `groundingSupports[].segment {partIndex, startIndex, endIndex, text}` map spans of
    /// the output (byte offsets) to chunk indices.
    #[test]
    fn supports_map_back_to_text_spans() {
        let parts = parts(json!([
            {"text": "thinking", "thought": true},
            {"text": "Bananas are berries. ", "thoughtSignature": "c2ln"},
            {"text": "Über-yellow ones are ripe."}
        ]));
        let metadata = metadata(json!({
            "groundingChunks": [{"web": {"uri": "https://a.example", "title": "a"}}],
            "groundingSupports": [
                {"segment": {"partIndex": 2, "startIndex": 0, "endIndex": 12, "text": "Über-yellow"}, "groundingChunkIndices": [0], "confidenceScores": [0.5]},
                {"segment": {"startIndex": 0, "endIndex": 20, "text": "Bananas are berries."}, "groundingChunkIndices": [0]},
                {"segment": {"startIndex": 400, "endIndex": 404, "text": "ripe"}},
                {"segment": {"startIndex": 400, "endIndex": 404, "text": "not there"}}
            ]
        }));
        let grounding = Grounding::new(&metadata, &parts);
        let text = "Bananas are berries. Über-yellow ones are ripe.";
        let spans: Vec<Option<&str>> = grounding
            .supports()
            .iter()
            .map(|s| s.span().map(|r| &text[r]))
            .collect();
        assert_eq!(
            spans,
            [
                Some("Über-yellow"),
                Some("Bananas are berries."),
                Some("ripe"),
                None
            ]
        );
        assert_eq!(grounding.supports()[0].source_indices(), [0]);
        assert_eq!(grounding.supports()[0].confidence_scores(), [0.5]);
    }

    #[test]
    fn attribution_escapes_everything_and_keeps_only_http_links() {
        let metadata = metadata(json!({
            "searchEntryPoint": {"renderedContent": "<div>chip</div>"},
            "groundingChunks": [
                {"web": {"uri": "https://a.example/?q=1&r=<2>", "title": "A \"quoted\" <b>title</b>"}},
                {"web": {"uri": "javascript:alert(1)", "title": "evil"}},
                {"image": {"sourceUri": "https://page.example/p'1", "imageUri": "https://img.example/i.png", "title": "Pic", "domain": "page.example"}},
                {"image": {"sourceUri": "https://page.example/p'1", "imageUri": "https://img.example/again.png"}},
                {}
            ]
        }));
        let attribution = Grounding::new(&metadata, &[]).attribution();
        assert_eq!(attribution.links.len(), 2);
        assert_eq!(
            attribution.to_html(),
            "<div class=\"nanobanana-attribution\">\n<div>chip</div>\n<ul class=\"nanobanana-sources\">\n\
             <li class=\"nanobanana-source-web\"><a href=\"https://a.example/?q=1&amp;r=&lt;2&gt;\" target=\"_blank\" rel=\"noopener noreferrer\">A &quot;quoted&quot; &lt;b&gt;title&lt;/b&gt;</a></li>\n\
             <li class=\"nanobanana-source-image\"><a href=\"https://page.example/p&#39;1\" target=\"_blank\" rel=\"noopener noreferrer\"><img src=\"https://img.example/i.png\" alt=\"Pic\" loading=\"lazy\"></a> <a href=\"https://page.example/p&#39;1\" target=\"_blank\" rel=\"noopener noreferrer\">Pic</a> <span class=\"nanobanana-source-domain\">page.example</span></li>\n\
             </ul>\n</div>\n"
        );
        assert_eq!(Grounding::new(&metadata, &[]).sources()[4], Source::Other);
    }
}
