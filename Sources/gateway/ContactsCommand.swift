import ArgumentParser
import ContactLog
import Conversations
import Foundation
import GatewayCore
import Worker

struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts",
        abstract: "Opt-outs and do-not-contact marks: set, take back, show (every change is recorded in the contact log).",
        subcommands: [OptOutCommand.self, OptInCommand.self, Show.self, AddressCommand.self])

    struct Mark: ParsableArguments {
        @Argument(help: "Contact id (contact.id in jobs).")
        var contact: String

        @Option(help: "sms, email or push (default: every channel).")
        var channel: String?

        @Option(help: "Who is making the change, e.g. agent:maria or ticket:4411 (required: compliance must know).")
        var by: String

        @Option(help: "Why, in a few words.")
        var reason: String?

        func parsedChannel() throws -> Channel? {
            guard let channel else { return nil }
            guard let parsed = Channel(rawValue: channel) else { throw ValidationError("--channel must be sms, email or push") }
            return parsed
        }

        func validate() throws {
            guard !contact.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("give the contact id") }
            guard !by.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--by must say who is making the change") }
        }
    }

    /// The log as opt-out and opt-in use it: they append.
    static func appender(_ options: ConfigOptions) async throws -> any LogAppender {
        try await options.logWriter(options.load(), mustExist: false)
    }

    /// The log as show uses it: it reads.
    static func reader(_ options: ConfigOptions) async throws -> any LogReader {
        try await options.logReader(options.load(), mustExist: false)
    }

    struct OptOutCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "opt-out", abstract: "Stop messages to a contact on one channel or all.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var mark: Mark
        @Flag(help: "Do-not-contact: no message on any channel, whatever else the job says.")
        var doNotContact = false

        func run() async throws {
            let channel = try mark.parsedChannel()
            if doNotContact && channel != nil { throw ValidationError("--do-not-contact covers every channel; leave out --channel") }
            let optOut = OptOut(contactID: mark.contact, channel: channel, kind: doNotContact ? .doNotContact : .optOut,
                                setBy: mark.by, setAt: Date(), reason: mark.reason)
            try await ContactsCommand.appender(options).setOptOut(optOut)
            print("\(mark.contact): \(optOut.sentence)")
        }
    }

    struct OptInCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "opt-in", abstract: "Take back an opt-out or do-not-contact mark.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var mark: Mark

        func run() async throws {
            let channel = try mark.parsedChannel()
            let removed = try await ContactsCommand.appender(options).removeOptOut(contactID: mark.contact, channel: channel, by: mark.by, reason: mark.reason, at: Date())
            guard removed else {
                throw ValidationError("\(mark.contact) has no mark for \(channel?.rawValue ?? "all channels"); see `gateway contacts show \(mark.contact)`")
            }
            print("\(mark.contact): mark for \(channel?.rawValue ?? "all channels") taken back by \(mark.by)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The marks in force and every change to them.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Contact id.")
        var contact: String

        func run() async throws {
            let store = try await ContactsCommand.reader(options)
            let marks = try await store.optOuts([contact])[contact] ?? []
            print(marks.isEmpty ? "\(contact): no opt-out in force" : "\(contact): in force")
            for mark in marks { print("  \(mark.sentence)") }
            let history = try await store.events(EventFilter(contactID: contact, kinds: [.optOut, .optIn]))
            if !history.isEmpty { print("history:") }
            for stored in history { print("  \(formatTimestamp(stored.event.at))  \(stored.event.kind.rawValue)  \(stored.event.detail ?? "")") }
        }
    }

    struct AddressCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "address",
            abstract: "The opt-out a reply set on a number or mailbox, for every contact at it: show it, or lift it with --opt-in.",
            discussion: """
                A reply read as an opt-out holds its address for every contact, those to come included. An opt-in \
                reply from the address lifts it; so does --opt-in, when the reply was misread or the customer \
                consented again another way (a call, a letter). --opt-in also takes back the marks the same reply \
                set on that channel for the contacts it answered; a mark set another way is taken back with \
                gateway contacts opt-in CONTACT.
                """)
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The number (E.164) or e-mail address.")
        var address: String
        @Flag(help: "Lift the address's opt-out (needs --by and --reason).")
        var optIn = false
        @Option(help: "Who lifts it, e.g. compliance:ana.")
        var by: String?
        @Option(help: "Why, in a few words (what compliance reads).")
        var reason: String?

        func run() async throws {
            if optIn {
                guard let by, let reason else { throw ValidationError("--opt-in needs --by NAME and --reason TEXT: compliance must know who and why") }
                let desk = AddressOptOuts(store: try await options.logWriter(options.load()))
                let lifted: AddressOptOuts.Lifted
                do { lifted = try await desk.lift(address, by: by, note: reason, at: Date()) } catch { throw ValidationError(error.message) }
                for hold in lifted.holds {
                    print("\(hold.address ?? address): opt-out \(hold.id) lifted by \(by) (it was set by \(hold.source): \"\(EscalationText.printable(String(hold.replyText.prefix(80))))\")")
                }
                for mark in lifted.marks {
                    print("  and contact \(EscalationText.printable(mark.contactID))'s \(mark.channel?.rawValue ?? "every channel") opt-out the same reply set")
                }
                return
            }
            guard by == nil, reason == nil else { throw ValidationError("--by and --reason go with --opt-in") }
            let holds = try await AddressOptOuts(store: try await options.logWriter(options.load(), mustExist: false)).inForce(address, at: Date())
            let shown = AddressOptOuts.normalized(address)
            print(holds.isEmpty ? "\(shown): no reply's opt-out in force" : "\(shown): in force")
            for hold in holds { print("  \(hold.id)  \(EscalationText.printable(hold.sentence))") }
        }
    }
}
