import ArgumentParser
import ContactLog
import Conversations
import Foundation
import GatewayCore

/// `gateway escalations`: the replies a person must look at (disputes, lawyers, bankruptcies, wrong
/// numbers ...), from the contact log, the same desk as the API's `/escalations`.
struct EscalationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "escalations",
        abstract: "Replies a person must look at: list them, read one, resolve it (every resolution is recorded in the contact log).",
        discussion: """
            Examples:
              gateway escalations list                       # open ones, the soonest due first
              gateway escalations list --status all --format json
              gateway escalations show E-3f9a1c0b2d4e5f60
              gateway escalations resolve E-3f9a1c0b2d4e5f60 --by agent:maria --note "debt verified, letter sent" --lift
            """,
        subcommands: [List.self, Show.self, Resolve.self])

    static func desk(_ options: ConfigOptions) async throws -> EscalationDesk {
        EscalationDesk(store: try await options.contactLog(options.load()))
    }

    /// A desk refusal: its code and sentence on stderr, exit 1 (bad arguments exit 64 with usage).
    static func fail(_ failure: EscalationDesk.Failure) throws -> Never {
        if failure.code == .badRequest { throw ValidationError(failure.message) }
        FileHandle.standardError.write(Data("error (\(failure.code.rawValue)): \(EscalationText.printable(failure.message))\n".utf8))
        throw ExitCode(1)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Escalations: open ones first, the soonest due first (overdue ones say so), then resolved ones, latest first.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "open, resolved or all.")
        var status: String = "open"
        @Option(help: "At most this many (1-1000).")
        var limit: Int = 100
        @Option(help: "text or json (one object {\"escalations\": [...]}, the API's fields plus overdue).")
        var format: String = "text"

        func validate() throws {
            guard ["open", "resolved", "all"].contains(status) else { throw ValidationError("--status must be open, resolved or all; got \(status)") }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be a number from 1 to 1000; got \(limit)") }
            guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json; got \(format)") }
        }

        func run() async throws {
            let desk = try await EscalationsCommand.desk(options)
            let wanted: Escalation.Status? = status == "open" ? .open : status == "resolved" ? .resolved : nil
            let escalations = try await desk.list(status: wanted, limit: limit)
            let now = Date()
            if format == "json" {
                print(JSONValue.object(["escalations": .array(escalations.map { EscalationText.json($0, now: now) })]).serialized)
                return
            }
            if escalations.isEmpty {
                print(status == "all" ? "no escalations" : "no \(status) escalations")
                return
            }
            let overdue = escalations.filter { EscalationText.isOverdue($0, now: now) }.count
            for escalation in escalations { print(EscalationText.summary(escalation, now: now)) }
            let open = escalations.filter { $0.status == .open }.count
            print("\(escalations.count) shown: \(open) open (\(overdue) overdue), \(escalations.count - open) resolved"
                  + (escalations.count == limit ? "; there may be more (--limit)" : ""))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One escalation: the reply, how it was read, the holds it set and their state now.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Escalation id (E-0123456789abcdef), as list shows it.")
        var id: String

        func run() async throws {
            let desk = try await EscalationsCommand.desk(options)
            do {
                let (escalation, holds) = try await desk.show(id)
                print(EscalationText.details(escalation, holds: holds, now: Date()))
            } catch {
                try EscalationsCommand.fail(error)
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close an open escalation with who and why; --lift also lifts the pauses and blocks its reply set.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Escalation id (E-0123456789abcdef).")
        var id: String
        @Option(help: "Who resolves it, e.g. agent:maria (recorded in the contact log).")
        var by: String
        @Option(help: "Why, in words compliance will read: what was checked, what the customer was told.")
        var note: String
        @Flag(help: "Lift every pause and block the reply set (without it they stay until lifted another way or until their date).")
        var lift = false

        func run() async throws {
            let desk = try await EscalationsCommand.desk(options)
            do {
                let (escalation, lifted) = try await desk.resolve(id, by: by, note: note, lift: lift, at: Date())
                print("\(escalation.id) resolved by \(EscalationText.printable(escalation.resolvedBy ?? by)) at \(escalation.resolvedAt.map(formatTimestamp) ?? "?")")
                if lift {
                    print(lifted.isEmpty ? "no pause or block of it was still in force" : "lifted:")
                    for hold in lifted { print("  \(EscalationText.printable(hold.sentence))") }
                } else if !escalation.holds.isEmpty {
                    print("its holds stay (\(escalation.holds.joined(separator: ", "))): they end at their date or when lifted; resolve with --lift to lift them")
                }
            } catch {
                try EscalationsCommand.fail(error)
            }
        }
    }
}

/// How escalations read for a person at a terminal.
enum EscalationText {
    static func isOverdue(_ escalation: Escalation, now: Date) -> Bool {
        escalation.status == .open && now > escalation.dueBy
    }

    /// "2 d 4 h", "3 h 20 min", "45 min", "less than a minute".
    static func duration(_ seconds: TimeInterval) -> String {
        let minutes = Int((abs(seconds) / 60).rounded(.down))
        let (days, hours, rest) = (minutes / 1440, minutes % 1440 / 60, minutes % 60)
        if days > 0 { return "\(days) d" + (hours > 0 ? " \(hours) h" : "") }
        if hours > 0 { return "\(hours) h" + (rest > 0 ? " \(rest) min" : "") }
        return minutes > 0 ? "\(minutes) min" : "less than a minute"
    }

    /// The reply's text as one line a terminal shows as it is: line breaks as ⏎, other control
    /// characters (escape sequences a customer could send) as \u{..}.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += " ⏎ "
            case "\r": continue
            case "\t": out += " "
            default:
                if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format && scalar.value != 0x200D {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    static func due(_ escalation: Escalation, now: Date) -> String {
        let due = "due by \(formatTimestamp(escalation.dueBy))"
        switch escalation.status {
        case .open:
            return isOverdue(escalation, now: now)
                ? "\(due), OVERDUE by \(duration(now.timeIntervalSince(escalation.dueBy)))"
                : "\(due) (in \(duration(escalation.dueBy.timeIntervalSince(now))))"
        case .resolved:
            guard let resolvedAt = escalation.resolvedAt else { return due }
            let late = resolvedAt > escalation.dueBy
            return "\(due), resolved after \(duration(resolvedAt.timeIntervalSince(escalation.receivedAt)))" + (late ? " (late)" : " (in time)")
        }
    }

    static func who(_ escalation: Escalation) -> String {
        "contact \(escalation.contactID ?? "unknown (no message was sent to \(escalation.address))")" + (escalation.debtID.map { ", debt \($0)" } ?? "")
    }

    static func reading(_ escalation: Escalation) -> String {
        "read as \(escalation.label) (\(String(format: "%.2f", escalation.score))), intents \(escalation.intents.joined(separator: ", "))"
    }

    /// Three or four lines per escalation, for `list`.
    static func summary(_ escalation: Escalation, now: Date) -> String {
        var lines = ["\(escalation.id)  \(escalation.status == .open ? escalation.priority : "resolved")  \(due(escalation, now: now))",
                     "  \(who(escalation)); \(escalation.channel.rawValue) from \(printable(escalation.address)) at \(formatTimestamp(escalation.receivedAt)), \(reading(escalation))",
                     "  replied \"\(printable(String(escalation.replyText.prefix(200))))\"" + (escalation.replyText.count > 200 ? " ..." : "")]
        if escalation.status == .resolved {
            lines.append("  resolved by \(printable(escalation.resolvedBy ?? "?")) at \(escalation.resolvedAt.map(formatTimestamp) ?? "?")"
                         + (escalation.liftedHolds == true ? ", holds lifted" : "") + ": \(printable(escalation.resolutionNote ?? ""))")
        } else if !escalation.holds.isEmpty {
            lines.append("  holds \(escalation.holds.joined(separator: ", ")) (gateway escalations show \(escalation.id))")
        }
        return lines.joined(separator: "\n")
    }

    /// Everything about one escalation, for `show`.
    static func details(_ escalation: Escalation, holds: [Hold], now: Date) -> String {
        var lines = ["escalation  \(escalation.id)",
                     "status      \(escalation.status.rawValue), \(escalation.priority) priority, \(due(escalation, now: now))",
                     "who         \(who(escalation))",
                     "reply       \(escalation.channel.rawValue) from \(printable(escalation.address)) at \(formatTimestamp(escalation.receivedAt)) (\(printable(escalation.source)))",
                     "reading     \(reading(escalation))",
                     "text        \(printable(escalation.replyText))"]
        if holds.isEmpty {
            lines.append("holds       none: this reply paused and blocked nothing")
        } else {
            lines.append("holds")
            for hold in holds.sorted(by: { $0.id < $1.id }) {
                let state: String
                if let liftedAt = hold.liftedAt {
                    state = "lifted by \(printable(hold.liftedBy ?? "?")) at \(formatTimestamp(liftedAt))"
                } else {
                    state = hold.inForce(at: now) ? "IN FORCE" : "ended at its date"
                }
                lines.append("  \(hold.id)  \(state): \(printable(hold.sentence))")
            }
        }
        if escalation.status == .resolved {
            lines.append("resolved    at \(escalation.resolvedAt.map(formatTimestamp) ?? "?") by \(printable(escalation.resolvedBy ?? "?"))"
                         + (escalation.liftedHolds == true ? ", its holds lifted" : ", its holds left as they were"))
            lines.append("note        \(printable(escalation.resolutionNote ?? ""))")
        } else {
            lines.append("resolve     gateway escalations resolve \(escalation.id) --by NAME --note \"...\" [--lift]")
        }
        return lines.joined(separator: "\n")
    }

    /// The API's fields (GET /escalations), plus `overdue`.
    static func json(_ escalation: Escalation, now: Date) -> JSONValue {
        guard case .object(var fields) = escalation.json else { return escalation.json }
        fields["overdue"] = .bool(isOverdue(escalation, now: now))
        return .object(fields)
    }
}
