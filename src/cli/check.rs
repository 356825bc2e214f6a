//! `bulkhead check`: compile rule files and report every problem.

use std::path::PathBuf;
use std::process::ExitCode;

use bulkhead::diagnostic::Diagnostic;
use bulkhead::rules::{self, CompileOptions, CompiledRules};

#[derive(clap::Args)]
#[command(after_help = "Without RULES, checks the reference vehicle's rules embedded in bulkhead.\n\
Exits 1 if there is an error; warnings alone exit 0 (add --deny-warnings to fail on them).")]
pub struct Args {
    /// DBC files for ports whose rule file names none.
    #[arg(long = "dbc", value_name = "FILE")]
    dbcs: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
    /// Rule files (TOML); several are merged.
    #[arg(value_name = "RULES")]
    rules: Vec<PathBuf>,
}

/// Compiles `paths` (or the embedded reference rules when empty) and returns
/// the rules with their warnings, or the rendered diagnostics.
pub fn compile(paths: &[PathBuf], dbcs: &[PathBuf]) -> Result<(CompiledRules, Vec<Diagnostic>), rules::RulesError> {
    if paths.is_empty() {
        rules::reference()
    } else {
        rules::load(paths, CompileOptions { extra_dbcs: dbcs.to_vec(), ..CompileOptions::default() })
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let name = if args.rules.is_empty() {
        "the embedded reference rules".to_owned()
    } else {
        args.rules.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    };
    match compile(&args.rules, &args.dbcs) {
        Ok((rules, warnings)) => {
            for w in &warnings {
                eprintln!("{w}\n");
            }
            println!(
                "{name}: ok ({} ports, {} routes, {} state variables, {} triggers, {} DBC files){}",
                rules.ports.len(),
                rules.routes.len(),
                rules.state.len(),
                rules.triggers.len(),
                rules.dbcs.len(),
                if warnings.is_empty() { String::new() } else { format!(", {} warning(s)", warnings.len()) }
            );
            Ok(if args.deny_warnings && !warnings.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
