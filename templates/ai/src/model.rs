//! The models behind the service: Workers AI on Workers, and a deterministic local model for
//! tests and offline development (Workers AI cannot run without a Cloudflare account).

use dotdo::{Error, LocalBoxFuture};
use serde::{Deserialize, Serialize};

use crate::Generation;

pub trait Model {
    fn generate<'a>(&'a self, prompt: &'a str, max_tokens: u32) -> LocalBoxFuture<'a, dotdo::Result<Generation>>;
    fn embed<'a>(&'a self, texts: &'a [String]) -> LocalBoxFuture<'a, dotdo::Result<Vec<Vec<f32>>>>;
    fn embedding_model(&self) -> String;
}

/// The Workers AI binding.
pub struct WorkersAi {
    ai: worker::Ai,
    text_model: String,
    embedding_model: String,
}

impl WorkersAi {
    pub fn new(ai: worker::Ai, text_model: String, embedding_model: String) -> Self {
        WorkersAi { ai, text_model, embedding_model }
    }
}

fn ai_error(error: worker::Error) -> Error {
    // Workers AI failures are usually capacity or rate limits: worth retrying.
    Error::upstream(format!("Workers AI: {error}"))
}

// Structs, not `json!`: workers-rs hands inputs to JS through serde-wasm-bindgen, which turns
// JSON maps into JS `Map`s that Workers AI does not read.
#[derive(Serialize)]
struct TextInput<'a> {
    prompt: &'a str,
    max_tokens: u32,
}

#[derive(Serialize)]
struct EmbeddingInput<'a> {
    text: &'a [String],
}

#[derive(Deserialize)]
struct TextOutput {
    response: String,
}

#[derive(Deserialize)]
struct EmbeddingOutput {
    data: Vec<Vec<f32>>,
}

impl Model for WorkersAi {
    fn generate<'a>(&'a self, prompt: &'a str, max_tokens: u32) -> LocalBoxFuture<'a, dotdo::Result<Generation>> {
        Box::pin(async move {
            let output: TextOutput =
                self.ai.run(&self.text_model, TextInput { prompt, max_tokens }).await.map_err(ai_error)?;
            Ok(Generation { text: output.response, model: self.text_model.clone() })
        })
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> LocalBoxFuture<'a, dotdo::Result<Vec<Vec<f32>>>> {
        Box::pin(async move {
            let output: EmbeddingOutput = self.ai.run(&self.embedding_model, EmbeddingInput { text: texts }).await.map_err(ai_error)?;
            Ok(output.data)
        })
    }

    fn embedding_model(&self) -> String {
        self.embedding_model.clone()
    }
}

/// A deterministic stand-in: the same input always gives the same output, so tests can assert
/// on it. It is not a language model: generation echoes the prompt's words up to the budget,
/// and embeddings are unit vectors of hashed character trigrams.
pub struct LocalModel;

pub const LOCAL_DIMENSIONS: usize = 16;

impl Model for LocalModel {
    fn generate<'a>(&'a self, prompt: &'a str, max_tokens: u32) -> LocalBoxFuture<'a, dotdo::Result<Generation>> {
        let words: Vec<&str> = prompt.split_whitespace().take(max_tokens as usize).collect();
        let text = format!("local: {}", words.join(" "));
        Box::pin(async move { Ok(Generation { text, model: "local".into() }) })
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> LocalBoxFuture<'a, dotdo::Result<Vec<Vec<f32>>>> {
        let vectors = texts.iter().map(|text| trigram_vector(text)).collect();
        Box::pin(async move { Ok(vectors) })
    }

    fn embedding_model(&self) -> String {
        "local".into()
    }
}

fn trigram_vector(text: &str) -> Vec<f32> {
    let mut vector = vec![0f32; LOCAL_DIMENSIONS];
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    for window in chars.windows(3) {
        // FNV-1a: stable across platforms and runs.
        let mut hash: u32 = 0x811c9dc5;
        for c in window {
            hash = (hash ^ *c as u32).wrapping_mul(0x01000193);
        }
        vector[hash as usize % LOCAL_DIMENSIONS] += 1.0;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}
