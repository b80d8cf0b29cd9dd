//! `kubectl-zot`: maps the result of [`kubectl_zot::run`] to the exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_zot::main_exit_code()
}
