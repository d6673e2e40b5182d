import ArgumentParser
import Conversations
import Foundation
import GatewayCore
import Logging
import RedisQueue
import Replies
import Worker

struct RepliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replies",
        abstract: "Compliance's tools for customers' replies: classify them, check the lexicons, record one that came another way.",
        subcommands: [Classify.self, Lint.self, Receive.self, Train.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the reply model (model.tsv) on labeled replies; scripts/train-replies runs this on the labeled set's train split.",
            discussion: """
                Reads labeled replies as JSON lines ({"text", "lang", "label", "intents", "split"}, the format of \
                Tests/Fixtures/replies/labeled.jsonl), trains on those of --split, and writes the weights. The same \
                data gives the same file. The running gateway picks the file up like a lexicon edit.
                Example:
                  gateway replies train --data Tests/Fixtures/replies/labeled.jsonl --split train --out config/replies/model.tsv
                """)

        @Option(help: "The labeled replies (JSON lines).")
        var data: String = "Tests/Fixtures/replies/labeled.jsonl"

        @Option(help: "Train on the replies of this split only (train, test) or all.")
        var split: String = "train"

        @Option(help: "Where to write the weights (default: model.tsv in the lexicon folder).")
        var out: String?

        @Option(help: "The lexicon folder whose normalization the model uses (default: replies from the gateway configuration).")
        var lexicons: String?

        @Flag(help: "Print the model's out-of-fold figures on the chosen replies instead of writing weights.")
        var crossValidate = false

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let directory = try lexicons ?? options.load().repliesDirectory
            let loaded: ReplyLexicons
            do { loaded = try ReplyLexiconFile.load(directory: directory) } catch { throw ValidationError(error.message) }
            guard let contents = FileManager.default.contents(atPath: data) else { throw ValidationError("cannot read \(data)") }
            var examples: [ReplyModelTrainer.Example] = []
            for (number, line) in contents.split(separator: UInt8(ascii: "\n")).enumerated() {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let text = object["text"] as? String, let label = (object["label"] as? String).flatMap(ReplyLabel.init(rawValue:)),
                      let names = object["intents"] as? [String] else {
                    throw ValidationError("\(data) line \(number + 1): needs text, label and intents (see README, The labeled set)")
                }
                guard split == "all" || object["split"] as? String == split else { continue }
                var intents: Set<ReplyIntent> = []
                for name in names {
                    guard let intent = ReplyIntent(rawValue: name) else { throw ValidationError("\(data) line \(number + 1): unknown intent \(name)") }
                    intents.insert(intent)
                }
                examples.append(.init(text: text, language: object["lang"] as? String, label: label, intents: intents))
            }
            if crossValidate {
                do { try ReplyModelTrainer.crossValidate(examples, lexicons: loaded).forEach { print($0) } } catch { throw ValidationError(error.message) }
                return
            }
            let about = [
                "Reply model: logistic regression on word 1-3-grams and 3-5-letter groups (README, Replies).",
                "Trained by scripts/train-replies (gateway replies train) on \(examples.count) replies, split \(split) of \((data as NSString).lastPathComponent).",
                "Do not edit by hand: add labeled replies and train again.",
            ]
            let model: ReplyModel
            do { model = try ReplyModelTrainer.train(examples, lexicons: loaded, about: about) } catch { throw ValidationError(error.message) }
            let path = out ?? (directory as NSString).appendingPathComponent(ReplyModel.fileName)
            do { try model.serialized().write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw ValidationError("cannot write \(path): \(error.localizedDescription)")
            }
            print("trained on \(examples.count) replies: \(model.weights.count) features, thresholds " +
                  ReplyIntent.allCases.map { "\($0.rawValue)=\(String(format: "%.2f", model.thresholds[$0] ?? 0.5))" }.joined(separator: " ") + "; wrote \(path)")
        }
    }

    struct Receive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a customer's reply that came another way (a letter, a call) and act on it as the webhooks do.",
            discussion: """
                The reply is read, recorded once (by --id) in the contact log, matched to the contacts sent a message on \
                --channel at --from, and acted on: opt-out, pauses, blocks, escalations, answers (enqueued on the jobs \
                stream). Prints what it read and did as JSON.
                Examples:
                  gateway replies receive --from +50688887777 --text "ya no me escriban" --id letter-2026-0142
                  gateway replies receive --channel email --from ana@example.com --text "I have a lawyer now" --id call-881
                """)

        @Option(help: "The customer's phone number (E.164) or e-mail address.")
        var from: String

        @Option(help: "What the customer said or wrote.")
        var text: String

        @Option(help: "sms or email: the channel whose contacts it is matched to and which an opt-out stops.")
        var channel: String = "sms"

        @Option(help: "A reference for this reply (the letter's or the call's): recording it again changes nothing.")
        var id: String

        @Option(help: "Who records it (kept as the reply's provider, manual:<by>).")
        var by: String = "compliance"

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            guard let channel = Channel(rawValue: channel), channel != .push else { throw ValidationError("--channel must be sms or email") }
            guard channel == .email ? JobDecoder.isEmailAddress(from) : JobDecoder.isE164(from) else {
                throw ValidationError("--from must be \(channel == .email ? "an e-mail address" : "an E.164 phone number like +50688887777")")
            }
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, !id.isEmpty, !by.isEmpty else {
                throw ValidationError("--text, --id and --by must not be empty")
            }
            let configuration = try options.load()
            let store = try await options.contactLog(configuration, mustExist: false)
            let policy: ReplyPolicy
            do { policy = try ReplyActionsFile.load(path: configuration.replyActionsPath) } catch { throw ValidationError(error.message) }
            let rules = try ContactRulesFile.load(path: configuration.contactRulesPath)
            let lexicons: RepliesStore?
            do { lexicons = try RepliesStore(directory: configuration.repliesDirectory) } catch { throw ValidationError(error.message) }
            let redis = RedisClient(configuration: try RedisConfiguration(url: configuration.redisURL))
            let desk = ReplyDesk(store: store, lexicons: lexicons, policy: policy, intake: JobIntake(client: redis, stream: configuration.stream),
                                 escalations: StreamOnce(client: redis, stream: configuration.escalationStream, prefix: configuration.escalationStream + ":published:"),
                                 timeZone: TimeZone(identifier: rules.defaultTimeZone) ?? TimeZone(identifier: "UTC")!, logger: Logger(label: "replies"))
            let message = InboundMessage(provider: "manual:\(by)", messageID: id, from: channel == .email ? from.lowercased() : from, to: "",
                                         body: text, at: Date(), raw: JSONValue.object(["recorded_by": .string(by)]).serialized, channel: channel)
            let outcome: ReplyDesk.Outcome
            do { outcome = try await desk.handle(message) } catch {
                await redis.shutdown()
                throw ValidationError("could not record the reply: \(error)")
            }
            await redis.shutdown()
            print(JSONValue.object([
                "recorded": .bool(outcome.recorded), "label": .string(outcome.reading.label), "score": .number(outcome.reading.score),
                "intents": .array(outcome.reading.intents.map(JSONValue.string)), "answers": .array(outcome.answers.map(JSONValue.string)),
                "escalations": .array(outcome.escalations.map(JSONValue.string)), "explain": .array(outcome.reading.explain.map(JSONValue.string)),
            ]).serialized)
            if !outcome.recorded { FileHandle.standardError.write(Data("reply \(id) was recorded before: nothing changed\n".utf8)) }
        }
    }

    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read replies and say what each one asks and how it sounds, with the reasons.",
            discussion: """
                Reads JSON lines {"text": "...", "lang": "es"} (lang optional: es, en, es-MX...) on stdin and writes one \
                JSON line per reply: {"text", "lang", "label", "score", "intents", "promise", "explain"}. A line that \
                cannot be read gets {"line": N, "error": {"code", "message"}} in its place, and the command exits 1.
                Examples:
                  gateway replies classify --text "ya no me escriban"
                  echo '{"text": "I can do $25 on the 15th", "lang": "en"}' | gateway replies classify
                """)

        @Option(help: "Classify this one reply instead of reading stdin.")
        var text: String?

        @Option(help: "The reply's language with --text (es, en; default: guessed from the words).")
        var lang: String?

        @Option(help: "The lexicon folder (default: replies from the gateway configuration, config/replies).")
        var lexicons: String?

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let directory = try lexicons ?? options.load().repliesDirectory
            let loaded: ReplyLexicons
            do { loaded = try ReplyLexiconFile.load(directory: directory) } catch { throw ValidationError(error.message) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            func emit(_ value: some Encodable) {
                let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
            if let text {
                do { emit(try loaded.classify(text, language: lang)) } catch { throw ValidationError(error.message) }
                return
            }
            guard lang == nil else { throw ValidationError("--lang goes with --text; on stdin, give \"lang\" in each line") }
            var failed = false
            var number = 0
            while let line = Swift.readLine(strippingNewline: true) {
                number += 1
                if line.allSatisfy(\.isWhitespace) { continue }
                do {
                    let (text, language) = try Self.request(Array(line.utf8))
                    emit(try loaded.classify(text, language: language))
                } catch {
                    failed = true
                    emit(JSONValue.object(["line": .number(Double(number)),
                                           "error": .object(["code": .string(error.code), "message": .string(error.message)])]))
                }
            }
            if failed { throw ExitCode(1) }
        }

        /// One stdin line: {"text": "...", "lang": "es"}, through the strict parser the API uses.
        static func request(_ bytes: [UInt8]) throws(ReplyError) -> (String, String?) {
            let value: JSONValue
            do { value = try JSONParser.parse(bytes) } catch {
                throw ReplyError(code: "not_json", message: "not valid JSON: \(error); write one object per line, like {\"text\": \"ya pagué\", \"lang\": \"es\"}")
            }
            guard case .object(let object) = value else {
                throw ReplyError(code: "wrong_type", message: "each line must be an object like {\"text\": \"ya pagué\"}, got \(value.typeName)")
            }
            if let unknown = object.keys.sorted().first(where: { $0 != "text" && $0 != "lang" }) {
                throw ReplyError(code: "unknown_field", message: "unknown field \"\(unknown)\"; a line has text and, optionally, lang")
            }
            guard case .string(let text)? = object["text"] else {
                throw ReplyError(code: "no_text", message: "each line needs \"text\" as a string")
            }
            switch object["lang"] {
            case nil, .null?: return (text, nil)
            case .string(let language)?: return (text, language)
            case let other?: throw ReplyError(code: "bad_lang", message: "lang must be a string like \"es\" or \"en\", got \(other.typeName)")
            }
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the reply lexicons (unknown keys, empty or malformed phrases, duplicates, valences outside -4...4, with file:line) and config/reply-actions.yml (its keys, and that its answer templates exist).")

        @Argument(help: "The lexicon folder (default: replies from the gateway configuration, config/replies).")
        var path: String?

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let directory = try path ?? options.load().repliesDirectory
            let files: [String: Data]
            do { files = try ReplyLexiconFile.read(directory: directory) } catch { throw ValidationError(error.message) }
            let (findings, lexicons) = ReplyLexiconFile.lexicons(files: files)
            for finding in findings { print(finding) }
            guard let lexicons, findings.isEmpty else {
                print("\(findings.count) error(s); the gateway keeps the last good lexicons until these are fixed")
                throw ExitCode(1)
            }
            for language in lexicons.languages {
                guard let lexicon = lexicons.byLanguage[language] else { continue }
                let phrases = lexicon.intents.values.reduce(0) { $0 + $1.count } + lexicon.cues.values.reduce(0) { $0 + $1.count }
                print("\(language): \(phrases) phrases, \(lexicon.words.count + lexicon.prefixWords.count) sentiment words, \(lexicon.emoji.count) emoji")
            }
            if let model = lexicons.model {
                print("\(ReplyModel.fileName): \(model.weights.count) features; " + (model.about.first { $0.hasPrefix("Trained") } ?? "no note of what it was trained on"))
            } else {
                print("\(ReplyModel.fileName): none, the phrases work alone (scripts/train-replies makes it)")
            }
            print("\(directory): the reply lexicons are fine")
            // What replies do: the file, and the templates its answers are sent with.
            let configuration = try options.load()
            let policy: ReplyPolicy
            do { policy = try ReplyActionsFile.load(path: configuration.replyActionsPath) } catch {
                print(error.message)
                throw ExitCode(1)
            }
            let missing = [policy.optOutConfirmationTemplate, policy.helpTemplate].filter { name in
                !FileManager.default.fileExists(atPath: (configuration.templatesDirectory as NSString).appendingPathComponent(name + "/template.yml"))
            }
            guard missing.isEmpty else {
                print("\(configuration.replyActionsPath): templates \(missing.joined(separator: ", ")) do not exist in \(configuration.templatesDirectory)/: opt-out confirmations and help texts would be refused as unknown_template")
                throw ExitCode(1)
            }
            print("\(configuration.replyActionsPath): fine (\(FileManager.default.fileExists(atPath: configuration.replyActionsPath) ? "as written" : "missing: the standard policy applies"))")
        }
    }
}
