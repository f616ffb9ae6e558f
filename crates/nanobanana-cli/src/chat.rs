//! `chat`: an editing conversation, one prompt per line of input (history in the session file, or
//! with `--api interactions` kept on the service: the file then holds only interaction ids).
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

use nanobanana_workflows::{Chat, ChatExport, Generation, ImageOptions, InputImage, Message};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt as _;

use crate::cli::{ApiChoice, ChatArgs, Global};
use crate::files::{self, Overwrite};
use crate::generate::{Report, checked_history_request, image_options, no_image, read_image};
use crate::interactions::{self, SendError, ServerChat, ServerSession};
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
    if let (Some(saved), Some(model)) = (&saved, &args.options.model)
        && nanobanana_rules::catalogue::lookup(model).id()
            != nanobanana_rules::catalogue::lookup(saved.model()).id()
    {
        return Err(Failure::refused(format!(
            "the session is with {}, not {model}: a conversation stays with the model that made \
             its thought signatures (leave out --model, or start another session)",
            saved.model()
        )));
    }
    // A session kept on the service goes on there; one kept here cannot move to the service.
    let server_side =
        matches!(saved, Some(Saved::Server(_))) || args.options.api == ApiChoice::Interactions;
    if let (Some(Saved::Client(_)), ApiChoice::Interactions) = (&saved, args.options.api) {
        return Err(Failure::refused(
            "--api interactions: this session keeps its history in the file (it was made with \
             --api generate-content); leave out --api, or give another --session file",
        ));
    }
    if server_side {
        interactions::check_flags(&args.options)?;
    }
    service::check(global)?;
    crate::generate::prepare_dir(&args.output, "--output")?;
    if let Some(dir) = &args.options.show_thoughts {
        crate::generate::prepare_dir(dir, "--show-thoughts")?;
    }
    let service = service::connect(global).await?;
    let flags = image_options(&args.options);
    let client = service.client().clone();
    let mut chat = match saved {
        Some(Saved::Client(export)) => {
            let chat = Chat::from_export(client, export)
                .map_err(|error| Failure::refused(error.to_string()))?;
            let options = chat.options().merged_with(&flags);
            Conversation::Client(chat.with_options(options))
        }
        Some(Saved::Server(session)) => {
            let model = session.model.clone();
            Conversation::Server(ServerChat::new(client, &model, flags, Some(session)))
        }
        None if server_side => {
            Conversation::Server(ServerChat::new(client, args.options.model(), flags, None))
        }
        None => Conversation::Client(Chat::new(client, args.options.model()).with_options(flags)),
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

/// A session file: a conversation kept in the file, or one kept on the service.
enum Saved {
    Client(ChatExport),
    Server(ServerSession),
}

impl Saved {
    fn model(&self) -> &str {
        match self {
            Saved::Client(export) => &export.model,
            Saved::Server(session) => &session.model,
        }
    }
}

/// Reads and checks a session file before anything else happens (exit code 2 when it is not a
/// usable session: unreadable, another format, changed since it was saved, broken signatures).
fn load_session(path: &Path) -> Result<Saved, Failure> {
    let text = crate::files::read_text(path, crate::files::MAX_TEXT_INPUT_BYTES, "--session")
        .map_err(Failure::refused)?;
    if let Some(session) = ServerSession::parse(&text) {
        return session.map(Saved::Server).map_err(|e| {
            Failure::refused(format!(
                "--session {}: not a usable interactions session ({e}); give another file name \
                 to start a new session",
                path.display()
            ))
        });
    }
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
    Ok(Saved::Client(export))
}

/// The conversation of a chat: its history in this process (and the session file), or on the
/// service (`--api interactions`).
#[allow(clippy::large_enum_variant)] // one per chat process; never moved in a loop
enum Conversation {
    Client(Chat),
    Server(ServerChat),
}

impl Conversation {
    fn model(&self) -> &str {
        match self {
            Conversation::Client(chat) => chat.model(),
            Conversation::Server(chat) => chat.model(),
        }
    }

    fn turns(&self) -> usize {
        match self {
            Conversation::Client(chat) => chat.turns(),
            Conversation::Server(chat) => chat.turns(),
        }
    }

    fn options(&self) -> &ImageOptions {
        match self {
            Conversation::Client(chat) => chat.options(),
            Conversation::Server(chat) => chat.options(),
        }
    }

    fn set_options(&mut self, options: ImageOptions) {
        match self {
            Conversation::Client(chat) => chat.set_options(options),
            Conversation::Server(chat) => chat.set_options(options),
        }
    }

    fn undo(&mut self) -> bool {
        match self {
            Conversation::Client(chat) => chat.undo(),
            Conversation::Server(chat) => chat.undo(),
        }
    }

    fn export_json(&self) -> String {
        match self {
            Conversation::Client(chat) => chat.export_json(),
            Conversation::Server(chat) => chat.export_json(),
        }
    }

    /// Checks the next turn's request against the documented rules (nothing is sent when it
    /// breaks one).
    fn check(&self, ui: &Ui, message: &Message) -> Result<(), Failure> {
        match self {
            Conversation::Client(chat) => checked_history_request(ui, chat, message).map(|_| ()),
            Conversation::Server(chat) => {
                interactions::check_turn(ui, chat.conversation(), message)
            }
        }
    }

    /// Sends a turn; a turn that fails or brings no image leaves the conversation as it was.
    async fn send(&mut self, message: Message) -> Result<Generation, Failure> {
        let refused = |outcome: &nanobanana_workflows::Outcome| {
            no_image(outcome).with_detail("the turn was not kept; try again or rephrase")
        };
        match self {
            Conversation::Client(chat) => match chat.send(message).await {
                Ok(generation) => Ok(generation),
                Err(nanobanana_workflows::Error::Unusable { outcome }) => Err(refused(&outcome)),
                Err(nanobanana_workflows::Error::Transport(error)) => {
                    Err(Failure::from_client(&error))
                }
                Err(error) => Err(Failure::failed(error.to_string())),
            },
            Conversation::Server(chat) => match chat.send(message).await {
                Ok(generation) => Ok(generation),
                Err(SendError::Unusable(outcome)) => Err(refused(&outcome)),
                Err(SendError::Failure(failure)) => Err(failure),
            },
        }
    }
}

enum Step {
    Continue,
    Quit,
}

struct Session<'a> {
    ui: &'a Ui,
    chat: &'a mut Conversation,
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
        let chat = match &*self.chat {
            Conversation::Client(chat) => chat,
            Conversation::Server(chat) => {
                // The service keeps the turns; the session knows their interactions.
                for (index, id) in chat.ids().iter().enumerate() {
                    let mut line = format!("{}. interaction {id}", index + 1);
                    if let Some((_, file)) =
                        self.turn_files.iter().find(|(turn, _)| *turn == index + 1)
                    {
                        line.push_str(&format!(" -> {file}"));
                    }
                    self.info(&line);
                }
                return;
            }
        };
        for (index, pair) in chat.history().chunks(2).enumerate() {
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
        self.chat.check(self.ui, &message)?;
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
        let generation = answer?;
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
