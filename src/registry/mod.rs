//! Registry access: references, HTTP with auth, and image checks.

pub mod challenge;
pub mod check;
pub mod client;
pub mod error;
pub mod manifest;
pub mod platform;
pub mod reference;
pub mod zot;

pub use check::{Depth, ImageCheck, SourcedLogin, check_image};
pub use client::{ClientOptions, Login, RegistryClient};
pub use platform::Platform;
pub use reference::ImageRef;
