//! `bulkhead check`: compile rule files and report every problem.

use std::path::PathBuf;
use std::process::ExitCode;

use bulkhead::diagnostic::Diagnostic;
use bulkhead::rules::{self, CompileOptions, CompiledRules};

#[derive(clap::Args)]
#[command(after_help = "Without RULES, checks the reference vehicle's rules embedded in bulkhead.\n\
With --bundle, verifies the bundle's signature against the --trust keys, then compiles\n\
the rules inside it. Exits 1 if there is an error; warnings alone exit 0\n\
(add --deny-warnings to fail on them).")]
pub struct Args {
    /// A signed rule bundle (`bulkhead sign`) to verify and compile.
    #[arg(long, value_name = "FILE", conflicts_with = "rules")]
    bundle: Option<PathBuf>,
    /// A public key trusted to sign bundles (`bulkhead keygen signing --public`); repeatable.
    #[arg(long = "trust", value_name = "PUBKEY", requires = "bundle")]
    trust: Vec<PathBuf>,
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

/// Verifies a bundle against trusted public key files and compiles its rules.
pub fn compile_bundle(path: &std::path::Path, trust: &[PathBuf]) -> anyhow::Result<(CompiledRules, Vec<Diagnostic>)> {
    let trusted = trust
        .iter()
        .map(|p| bulkhead::keys::load_verifying_key(p).map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if trusted.is_empty() {
        anyhow::bail!("--trust: give at least one public key the bundle must be signed with");
    }
    let bundle =
        bulkhead::bundle::verify_file(path, &trusted).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    rules::from_bundle(&bundle, CompileOptions::default()).map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(bundle) = &args.bundle {
        return match compile_bundle(bundle, &args.trust) {
            Ok((rules, warnings)) => {
                for w in &warnings {
                    eprintln!("{w}\n");
                }
                println!(
                    "{}: signature ok, rules ok ({} ports, {} routes){}",
                    bundle.display(),
                    rules.ports.len(),
                    rules.routes.len(),
                    if warnings.is_empty() { String::new() } else { format!(", {} warning(s)", warnings.len()) }
                );
                Ok(if args.deny_warnings && !warnings.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                Ok(ExitCode::FAILURE)
            }
        };
    }
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
                "{name}: ok ({} ports, {} routes, {} state variables, {} devices, {} secured ids, {} triggers, {} DBC files){}",
                rules.ports.len(),
                rules.routes.len(),
                rules.state.len(),
                rules.devices.len(),
                rules.secured.len(),
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
