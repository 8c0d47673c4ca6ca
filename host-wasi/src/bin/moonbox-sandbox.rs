//! `moonbox-sandbox`: runs a Lua script inside the Wasm sandbox (see
//! `moonbox_host_wasi::cli` for the options).

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    std::process::ExitCode::from(moonbox_host_wasi::cli::main(&argv))
}
