//! `sse`: read, check and record Server-Sent Event streams.

use clap::{Parser, Subcommand};

use sse_cli::{cat, lint_cmd, record};

/// Read, check and record Server-Sent Event streams.
///
/// Exit codes: 0 success; 1 a failure (a stream that closed for good, findings that fail
/// `lint`); 2 a usage or input error.
#[derive(Parser, Debug)]
#[command(name = "sse", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print events as they arrive, reconnecting with Last-Event-ID (stdin without a URL).
    Cat(cat::CatArgs),
    /// Report what a stream does that the standard forbids or common clients misread.
    Lint(lint_cmd::LintArgs),
    /// Save a stream's raw bytes with their arrival times.
    Record(record::RecordArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Cat(args) => cat::run(args),
        Command::Lint(args) => lint_cmd::run(args),
        Command::Record(args) => record::run(args),
    };
    std::process::exit(code);
}
