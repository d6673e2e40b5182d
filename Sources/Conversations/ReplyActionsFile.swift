import Foundation
import GatewayCore
import YAMLMessages
import Yams

/// Reads config/reply-actions.yml into a `ReplyPolicy`. Every mistake names the key and what is
/// allowed; unknown keys are refused. A missing file means the standard policy (README: Replies).
public enum ReplyActionsFile {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func load(path: String) throws(Failure) -> ReplyPolicy {
        guard FileManager.default.fileExists(atPath: path) else { return .standard }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Failure(message: "\(path): cannot read it as UTF-8 text")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(Failure) -> ReplyPolicy {
        func fail(_ message: String) -> Failure { Failure(message: "\(file): \(message)") }
        let root: Node.Mapping
        do {
            guard let node = try Yams.compose(yaml: text), let mapping = node.mapping else { throw fail("must be a mapping (see the README, Replies)") }
            root = mapping
        } catch let error as Failure {
            throw error
        } catch {
            throw fail("not valid YAML: \(YAMLMessages.describe(error))")
        }
        var policy = ReplyPolicy.standard
        func duration(_ node: Node, _ key: String) throws(Failure) -> TimeInterval {
            guard let text = node.string, let seconds = Durations.parse(text) else { throw fail("\(key) must be a duration like 3d, 24h or 90m, got \"\(node.string ?? "?")\"") }
            return seconds
        }
        func name(_ node: Node, _ key: String) throws(Failure) -> String {
            guard let text = node.string, !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw fail("\(key) must be a template name (letters, digits, - and _), got \"\(node.string ?? "?")\"")
            }
            return text
        }
        for (keyNode, value) in root {
            let key = keyNode.string ?? ""
            switch key {
            case "promise_grace": policy.promiseGrace = try duration(value, key)
            case "mood_max_age": policy.moodMaxAge = try duration(value, key)
            case "templates":
                guard let mapping = value.mapping else { throw fail("templates must map opt_out_confirmation, help and payment_received to template names") }
                for (inner, node) in mapping {
                    let innerKey = inner.string ?? ""
                    switch innerKey {
                    case "opt_out_confirmation": policy.optOutConfirmationTemplate = try name(node, "templates.\(innerKey)")
                    case "help": policy.helpTemplate = try name(node, "templates.\(innerKey)")
                    case "payment_received": policy.paymentReceivedTemplate = try name(node, "templates.\(innerKey)")
                    default: throw fail("unknown key templates.\(innerKey) (known: help, opt_out_confirmation, payment_received)")
                    }
                }
            case "intents":
                guard let mapping = value.mapping else { throw fail("intents must map intents to their actions") }
                for (inner, node) in mapping {
                    let intent = inner.string ?? ""
                    guard ReplyPolicy.configurable.contains(intent) else {
                        throw fail("intents.\(intent): not an intent with configurable actions (known: \(ReplyPolicy.configurable.joined(separator: ", ")); opt_out, opt_in, help and promise_to_pay are fixed by law or by promise_grace)")
                    }
                    policy.actions[intent] = try action(node, place: "intents.\(intent)", duration: duration, fail: fail)
                }
            default:
                throw fail("unknown key \"\(key)\" (known: intents, mood_max_age, promise_grace, templates)")
            }
        }
        return policy
    }

    static func action(_ node: Node, place: String, duration: (Node, String) throws(Failure) -> TimeInterval,
                       fail: (String) -> Failure) throws(Failure) -> ReplyPolicy.Action {
        guard let mapping = node.mapping else { throw fail("\(place) must be a mapping like {pause: debt, escalate: true, priority: high, sla: 24h}") }
        var action = ReplyPolicy.Action()
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "pause":
                switch value.string {
                case "contact": action.pause = .contact
                case "debt": action.pause = .debt
                case "none": action.pause = nil
                default: throw fail("\(place).pause must be contact, debt or none, got \"\(value.string ?? "?")\"")
                }
            case "pause_for": action.pauseFor = try duration(value, "\(place).pause_for")
            case "block_address":
                guard let flag = value.bool else { throw fail("\(place).block_address must be true or false") }
                action.blockAddress = flag
            case "escalate":
                guard let flag = value.bool else { throw fail("\(place).escalate must be true or false") }
                action.escalate = flag
            case "priority":
                guard let text = value.string, ["high", "normal"].contains(text) else { throw fail("\(place).priority must be high or normal") }
                action.priority = text
            case "sla": action.sla = try duration(value, "\(place).sla")
            default: throw fail("unknown key \(place).\(key) (known: block_address, escalate, pause, pause_for, priority, sla)")
            }
        }
        if action.pauseFor != nil && action.pause == nil { throw fail("\(place).pause_for needs pause: contact or debt") }
        return action
    }
}
