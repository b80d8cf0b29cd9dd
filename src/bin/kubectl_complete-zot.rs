//! `kubectl_complete-zot`: completes `kubectl zot <TAB>` for kubectl 1.26 and later.
//!
//! kubectl runs this executable with the words after `kubectl zot`, the last being the word
//! under the cursor, and reads the candidates in cobra's `__complete` format from stdout. A
//! leading `__complete` or `__completeNoDesc` word is accepted too, as cobra programs take
//! it, so the executable also works behind a wrapper script that forwards cobra's arguments.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use kubectl_zot::commands::completion::{Plan, directive, fetch, plan};

/// Time budget of the cluster lookups, so a slow or unreachable cluster does not hang the
/// prompt.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

fn main() -> ExitCode {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    let mut with_descriptions = true;
    match words.first().map(String::as_str) {
        Some("__complete") => {
            words.remove(0);
        }
        Some("__completeNoDesc") => {
            words.remove(0);
            with_descriptions = false;
        }
        _ => {}
    }
    let completions = match plan(&words) {
        Plan::Ready(completions) => completions,
        Plan::Lookup(lookup) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(_) => {
                    // The shell ignores a completion that ends with the error directive.
                    write_stdout(&format!(":{}\n", directive::ERROR));
                    return ExitCode::SUCCESS;
                }
            };
            let completions = runtime.block_on(fetch(&lookup, LOOKUP_TIMEOUT));
            runtime.shutdown_background();
            completions
        }
    };
    write_stdout(&completions.render(with_descriptions));
    ExitCode::SUCCESS
}

/// Writes `text` to stdout. A closed stdout means the shell stopped waiting, so a write
/// error is not reported.
fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}
