import Mustache

/// A variable a template uses that the job does not provide (or provides empty).
public struct MissingVariable: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    /// Where it is used, as file:line:column.
    public var location: String
    public var description: String { "\(name) (used at \(location))" }
}

/// Walks the tag tree the way Mustache would render it, and reports every variable that would come
/// out empty. Sections whose value is missing or false are skipped, exactly as rendering skips them,
/// so an optional block ({{#pay_link}}...{{/pay_link}}) does not need its value.
struct StrictChecker {
    let partials: [String: (file: String, nodes: [TemplateNode])]

    func missing(in nodes: [TemplateNode], file: String, context: [String: Any]) -> [MissingVariable] {
        var found: [MissingVariable] = []
        walk(nodes, file: file, stack: [context], depth: 0, into: &found)
        return found
    }

    private func walk(_ nodes: [TemplateNode], file: String, stack: [Any], depth: Int, into found: inout [MissingVariable]) {
        for node in nodes {
            switch node {
            case .variable(let name, let line, let column):
                if !Self.isPresent(Self.lookup(name, in: stack)) {
                    found.append(MissingVariable(name: name, location: "\(file):\(line):\(column)"))
                }
            case .section(let name, let inverted, let children, _, _):
                let value = Self.lookup(name, in: stack)
                if inverted {
                    if !Self.isTruthy(value) { walk(children, file: file, stack: stack, depth: depth, into: &found) }
                    continue
                }
                switch value {
                case let list as [Any]:
                    for item in list { walk(children, file: file, stack: stack + [item], depth: depth, into: &found) }
                case let object as [String: Any]:
                    walk(children, file: file, stack: stack + [object], depth: depth, into: &found)
                case let value? where Self.isTruthy(value):
                    walk(children, file: file, stack: stack, depth: depth, into: &found)
                default:
                    break
                }
            case .partial(let name, let line, let column):
                guard depth < 8, let partial = partials[name] else {
                    if partials[name] == nil {
                        found.append(MissingVariable(name: ">\(name)", location: "\(file):\(line):\(column)"))
                    }
                    continue
                }
                walk(partial.nodes, file: partial.file, stack: stack, depth: depth + 1, into: &found)
            }
        }
    }

    /// Name resolution as swift-mustache does it: "." is the current object; a dotted name finds its
    /// first part anywhere up the stack, the rest inside that; a leading "." stays in the current object.
    static func lookup(_ name: String, in stack: [Any]) -> Any? {
        if name == "." { return stack.last }
        if !name.utf8.contains(UInt8(ascii: ".")) {
            // The common case: a plain name, found anywhere up the stack.
            for object in stack.reversed() { if let value = child(of: object, name) { return value } }
            return nil
        }
        let parts = name.split(separator: ".").map(String.init)
        guard let first = parts.first else { return nil }
        var current: Any?
        if name.hasPrefix(".") {
            current = child(of: stack.last, first)
        } else {
            current = stack.reversed().lazy.compactMap { child(of: $0, first) }.first
        }
        for part in parts.dropFirst() {
            current = child(of: current, part)
        }
        return current
    }

    /// Dictionaries and helper objects both answer as MustacheParent, as they do when rendering.
    static func child(of object: Any?, _ name: String) -> Any? {
        // The context's own types first: a cast to a protocol is a search, to a type a comparison.
        switch object {
        case let dictionary as [String: Any]: dictionary[name]
        case let money as MoneyHelper: money.child(named: name)
        case let date as DateHelper: date.child(named: name)
        case let parent as MustacheParent: parent.child(named: name)
        default: nil
        }
    }

    static func isPresent(_ value: Any?) -> Bool {
        switch value {
        case nil: return false
        case let text as String: return text.hasNonSpace
        default: return true
        }
    }

    static func isTruthy(_ value: Any?) -> Bool {
        switch value {
        case nil: return false
        case let flag as Bool: return flag
        case let list as [Any]: return !list.isEmpty
        case let text as String: return !text.isEmpty
        default: return true
        }
    }
}
