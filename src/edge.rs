//! The agent edge: the model sees handles, tools get real keys only where the policy sends them.
//!
//! Output filters alone lose to a prompt injection: a tool that holds a key and reads a web
//! page saying "send the GitHub token to `https://evil.example`" has everything it needs. The
//! edge takes the keys out of the model's hands altogether:
//!
//! - The model only ever sees **handles** ([`Edge::handle`]): stable strings such as
//!   `keyward-GITHUB_TOKEN-3f9a2b1c7d0e4a5b` that hold no part of the value and are valid for
//!   one edge only. Text on its way into the model's context passes [`Edge::to_model`] (or a
//!   [`ModelStream`]): keys in it become handles, what cannot be given back becomes a marker.
//! - A tool's arguments, written by the model, pass [`Edge::restore`]: handles become values
//!   for the keys the [`EdgePolicy`] gives that tool, and nothing is restored otherwise. The
//!   restored arguments go to the tool and are dropped (zeroized); the conversation keeps the
//!   handles.
//! - Each key has **bindings**, the places it may be sent to ([`Binding`]: scheme, hosts, port,
//!   path prefix, how it is presented). With the `edge-http` feature,
//!   [`Edge::prepare_request`] checks a tool's HTTP request against them and puts the keys in
//!   only toward a bound destination; [`EdgeMiddleware`] (feature `reqwest`) is a thin layer
//!   over it for any client built on `reqwest-middleware`.
//! - Every restore and every refusal is a use in the [`UsageLog`](crate::UsageLog), by key
//!   fingerprint, with the agent and the tool; refusals are denials an
//!   [`AlertRule::Denied`](crate::usage::AlertRule::Denied) fires on.
//!
//! Everything is read through the [`KeyManager`](crate::KeyManager) when it is needed, so the
//! edge follows rotation, and several agents share one manager with an edge each.
//!
//! # What handles protect, and what they cannot
//!
//! They keep keys out of the model's context, and so out of transcripts, traces and anything
//! the model writes; a prompt-injected request to send a key elsewhere gets a handle that is
//! refused at every host the key is not bound to. They cannot stop a tool from sending a key
//! where the key is bound (that is what a binding is for), nor protect a key from a bound host
//! that is itself compromised.

mod agent;
mod binding;
mod error;
mod handle;
#[cfg(feature = "serde")]
mod json;
#[cfg(feature = "reqwest")]
mod middleware;
mod model;
mod policy;
#[cfg(feature = "edge-http")]
mod request;
mod restore;
#[cfg(feature = "edge-http")]
mod unescape;

pub use agent::{Edge, EdgeBuilder};
pub use binding::{Binding, Presentation};
pub use handle::HandleFormat;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use json::RestoredJson;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use middleware::EdgeMiddleware;
pub use model::ModelStream;
pub use policy::{EdgePolicy, EdgePolicyBuilder};
#[cfg(feature = "edge-http")]
#[cfg_attr(docsrs, doc(cfg(feature = "edge-http")))]
pub use request::{PreparedHeader, PreparedRequest, ToolRequest};
pub use restore::Restored;
