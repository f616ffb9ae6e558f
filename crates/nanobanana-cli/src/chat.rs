//! `chat`: an editing conversation, one prompt per line of input.
//!
//! Each turn sends the whole history (model turns exactly as received, thought signatures
//! included: the workflows' `Chat`), saves the turn's images as `turn-001.jpg`, ... in the output
//! directory, and, with `--session FILE`, saves the conversation atomically after every
//! successful turn, so that the same command resumes it later. A failed turn (a refusal, a
//! service error, no usable answer) leaves the history as it was.
//!
//! On a terminal a failed turn is reported and the conversation goes on; with scripted input
//! (stdin not a terminal), the first failed turn ends the command with its exit code, as a
//! script would want.

use std::io::IsTerminal as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nanobanana_workflows::{Chat, ChatExport, InputImage, Message};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt as _;

use crate::cli::{ChatArgs, Global};
use crate::files::{self, Overwrite};
use crate::generate::{Report, checked_history_request, image_options, no_image, read_image};
use crate::service;
use crate::ui::{Failure, Ui};

const HELP: &str = "\
Type a prompt and press Enter: the model answers with an image (saved as turn-NNN.jpg, or .png for a model answering PNG) and
maybe some text. Each prompt builds on the conversation so far.
Commands:
  /image PATH   attach an image to the next prompt (repeat for several)
  /ratio R      aspect ratio of the next turns, e.g. 16:9 (/ratio off: the default)
  /size S       image size of the next turns: 512, 1K, 2K, 4K (/size off: the default)
  /undo         forget the last turn
  /history      list the turns so far
  /help         this text
  /quit         leave (end of input does the same)";

pub(crate) async fn run(ui: &Ui, global: &Global, args: &ChatArgs) -> Result<ExitCode, Failure> {
    let interactive = std::io::stdin().is_terminal();
    let overwrite = Overwrite::from_force(global.force);
    let saved = match &args.session {
        Some(path) if path.exists() => Some(load_session(path)?),
        Some(path) => {
            let dir = files::parent_dir(path);
            if !dir.is_dir() {
                return Err(Failure::refused(format!(
                    "--session {}: the directory {} does not exist",
                    path.display(),
                    dir.display()
                )));
            }
            None
        }
        None => None,
    };
    if let (Some(export), Some(model)) = (&saved, &args.options.model)
        && nanobanana_rules::catalogue::lookup(model).id()
            != nanobanana_rules::catalogue::lookup(&export.model).id()
    {
        return Err(Failure::refused(format!(
            "the session is with {}, not {model}: a conversation stays with the model that made \
             its thought signatures (leave out --model, or start another session)",
            export.model
        )));
    }
    service::check(global)?;
    crate::generate::prepare_dir(&args.output, "--output")?;
    if let Some(dir) = &args.options.show_thoughts {
        crate::generate::prepare_dir(dir, "--show-thoughts")?;
    }
    let service = service::connect(global).await?;
    let flags = image_options(&args.options);
    let mut chat = match saved {
        Some(export) => {
            let chat = Chat::from_export(service.client().clone(), export)
                .map_err(|error| Failure::refused(error.to_string()))?;
            let options = chat.options().merged_with(&flags);
            chat.with_options(options)
        }
        None => Chat::new(service.client().clone(), args.options.model()).with_options(flags),
    };
    let mut session = Session {
        ui,
        chat: &mut chat,
        path: args.session.clone(),
        output: args.output.clone(),
        thoughts: args.options.show_thoughts.clone(),
        overwrite,
        pending: Vec::new(),
        turn_files: Vec::new(),
    };
    session.greet(interactive, service.is_mock());

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{}> ", session.chat.turns() + 1);
            let _ = err.flush();
        }
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return Err(Failure::failed(format!("cannot read the input: {e}"))),
        };
        match session.handle(line.trim()).await {
            Ok(Step::Continue) => {}
            Ok(Step::Quit) => break,
            Err(failure) if interactive => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}", failure.text());
            }
            Err(failure) => return Err(failure),
        }
    }
    if interactive {
        ui.say("");
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads and checks a session file before anything else happens (exit code 2 when it is not a
/// usable session: unreadable, another format, changed since it was saved, broken signatures).
fn load_session(path: &Path) -> Result<ChatExport, Failure> {
    let text = crate::files::read_text(path, crate::files::MAX_TEXT_INPUT_BYTES, "--session")
        .map_err(Failure::refused)?;
    let export: ChatExport = serde_json::from_str(&text).map_err(|e| {
        Failure::refused(format!(
            "--session {}: not a chat session saved by nanobanana ({e}); give another file name \
             to start a new session",
            path.display()
        ))
    })?;
    export
        .validate()
        .map_err(|error| Failure::refused(format!("--session {}: {error}", path.display())))?;
    Ok(export)
}

enum Step {
    Continue,
    Quit,
}

struct Session<'a> {
    ui: &'a Ui,
    chat: &'a mut Chat,
    path: Option<PathBuf>,
    output: PathBuf,
    /// `--show-thoughts DIR`.
    thoughts: Option<PathBuf>,
    overwrite: Overwrite,
    /// Images attached with `/image` for the next prompt.
    pending: Vec<(PathBuf, InputImage)>,
    /// The files written per turn of this run, for `/history`.
    turn_files: Vec<(usize, String)>,
}

impl Session<'_> {
    fn greet(&self, interactive: bool, mock: bool) {
        if !interactive {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "chat with {}{}; {} turn(s) so far. /help for commands, /quit to leave.",
            self.chat.model(),
            if mock { " (fake server)" } else { "" },
            self.chat.turns()
        );
    }

    async fn handle(&mut self, line: &str) -> Result<Step, Failure> {
        if line.is_empty() {
            return Ok(Step::Continue);
        }
        let (command, rest) = match line.split_once(char::is_whitespace) {
            Some((command, rest)) => (command, rest.trim()),
            None => (line, ""),
        };
        match command {
            "/quit" | "/exit" | "/q" => return Ok(Step::Quit),
            "/help" | "/?" => self.info(HELP),
            "/image" => {
                if rest.is_empty() {
                    return Err(Failure::refused("/image needs a path: /image photo.png"));
                }
                let path = PathBuf::from(rest);
                let image = read_image(&path)?;
                self.info(&format!(
                    "attached {} ({}) to the next prompt",
                    path.display(),
                    image.mime_type()
                ));
                self.pending.push((path, image));
            }
            "/ratio" | "/size" => self.set_option(command, rest)?,
            "/undo" => {
                if self.chat.undo() {
                    self.save()?;
                    self.info(&format!("forgot the last turn; {} left", self.chat.turns()));
                } else {
                    self.info("nothing to undo");
                }
            }
            "/history" => self.history(),
            _ if command.starts_with('/') => {
                return Err(Failure::refused(format!(
                    "unknown command {command}; /help lists them (a prompt cannot start with /)"
                )));
            }
            _ => self.turn(line).await?,
        }
        Ok(Step::Continue)
    }

    fn info(&self, text: &str) {
        if !self.ui.json() {
            self.ui.say(text);
        }
    }

    fn set_option(&mut self, command: &str, value: &str) -> Result<(), Failure> {
        if value.is_empty() {
            return Err(Failure::refused(format!(
                "{command} needs a value, e.g. {command} {}",
                if command == "/ratio" { "16:9" } else { "2K" }
            )));
        }
        let options = self.chat.options().clone();
        let options = match (command, value) {
            ("/ratio", "off") => options.without_aspect_ratio(),
            ("/ratio", ratio) => options.with_aspect_ratio(ratio),
            (_, "off") => options.without_image_size(),
            (_, size) => options.with_image_size(size),
        };
        self.chat.set_options(options);
        self.info(&format!(
            "{} {} for the next turns",
            if command == "/ratio" {
                "aspect ratio"
            } else {
                "image size"
            },
            value
        ));
        Ok(())
    }

    fn history(&self) {
        if self.chat.turns() == 0 {
            self.info("no turns yet");
            return;
        }
        for (index, pair) in self.chat.history().chunks(2).enumerate() {
            let prompt: String = pair[0]
                .parts
                .iter()
                .filter_map(|p| p.text.as_deref())
                .collect::<Vec<_>>()
                .join(" ");
            let images = pair[0]
                .parts
                .iter()
                .filter(|p| p.inline_data.is_some() || p.file_data.is_some())
                .count();
            let mut line = format!("{}. {}", index + 1, one_line(&prompt, 70));
            if images > 0 {
                line.push_str(&format!(" (+{images} image(s))"));
            }
            if let Some((_, file)) = self.turn_files.iter().find(|(turn, _)| *turn == index + 1) {
                line.push_str(&format!(" -> {file}"));
            }
            self.info(&line);
        }
    }

    async fn turn(&mut self, prompt: &str) -> Result<(), Failure> {
        let number = self.chat.turns() + 1;
        let mut message = Message::text(prompt);
        for (_, image) in &self.pending {
            message = message.with_image(image.clone());
        }
        checked_history_request(self.ui, self.chat, &message)?;
        let base = self.output.join(format!("turn-{number:03}"));
        let expected =
            files::with_default_extension(&base, files::expected_mime_type(self.chat.model()));
        files::check_writable(&expected, self.overwrite).map_err(Failure::refused)?;

        let spinner = self.ui.spinner(format!(
            "turn {number}: generating with {}",
            self.chat.model()
        ));
        let answer = self.chat.send(message).await;
        spinner.stop();
        let generation = match answer {
            Ok(generation) => generation,
            Err(nanobanana_workflows::Error::Unusable { outcome }) => {
                return Err(
                    no_image(&outcome).with_detail("the turn was not kept; try again or rephrase")
                );
            }
            Err(nanobanana_workflows::Error::Transport(error)) => {
                return Err(Failure::from_client(&error));
            }
            Err(error) => return Err(Failure::failed(error.to_string())),
        };
        self.pending.clear();
        // The turn is in the history: save it before anything else can fail.
        self.save()?;
        let mut report = Report::new(&generation);
        if let Some(dir) = &self.thoughts {
            report.write_thoughts(
                &generation,
                dir,
                &format!("turn-{number:03}-thought"),
                self.overwrite,
            )?;
        }
        report.write_finals(self.ui, &generation, &base, self.overwrite)?;
        if let Some(first) = report.finals().first() {
            self.turn_files
                .push((number, first.path.display().to_string()));
        }
        if self.ui.json() {
            let mut value = report.json();
            if let Value::Object(map) = &mut value {
                map.insert("turn".to_owned(), json!(number));
                map.insert(
                    "session".to_owned(),
                    json!(self.path.as_ref().map(|p| p.display().to_string())),
                );
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}");
        } else {
            self.ui.say(&format!("turn {number}:"));
            for line in report.lines() {
                self.ui.say(&format!("  {line}"));
            }
        }
        Ok(())
    }

    /// Saves the conversation to the session file (atomically), if there is one.
    fn save(&self) -> Result<(), Failure> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        files::write_atomic(path, self.chat.export_json().as_bytes(), Overwrite::Replace).map_err(
            |e| {
                Failure::failed(format!("the session could not be saved: {e}"))
                    .with_detail("the turn is in this run's history but not in the file")
            },
        )
    }
}

fn one_line(text: &str, limit: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > limit {
        let cut: String = line.chars().take(limit).collect();
        format!("{cut}...")
    } else {
        line
    }
}
