import Foundation
import GatewayCore
import Mustache
import Testing
import TestSupport
@testable import Templates

/// The flat renderer must give exactly what swift-mustache gives, wherever it is used.
@Suite struct FlatTemplateTests {
    /// swift-mustache's rendering of a part, set up as the catalog sets it up.
    func mustache(_ text: String, html: Bool, partials: [String: String], context: [String: Any]) throws -> String {
        var library = MustacheLibrary()
        for (name, source) in partials {
            library.register(html ? try MustacheTemplate(string: source) : try TemplateCatalog.textPartial(source, relative: name), named: name)
        }
        let template = try MustacheTemplate(string: html ? text : "{{% CONTENT_TYPE: TEXT}}" + text)
        return template.render(context, library: library)
    }

    @Test func everyShippedPartAgreesWithSwiftMustacheOnItsSample() throws {
        let catalog = try TemplateCatalog(directory: repositoryTemplates)
        var smsParts = 0
        var flatSMSParts = 0
        for name in catalog.templateNames {
            let job = try TemplatePreview.sampleJob(catalog: catalog, template: name)
            for variant in catalog.templates[name]!.variants {
                for locale in ["es-CR", "en-US"] {
                    let context = RenderContext.make(for: job, locale: locale, category: .collection)
                    for (kind, part) in variant.parts {
                        if variant.channel == .sms { smsParts += 1 }
                        guard let flat = part.flat else { continue }
                        if variant.channel == .sms { flatSMSParts += 1 }
                        let expected = part.template.render(context, library: kind == .html ? catalog.library : catalog.textLibrary)
                        #expect(flat.render(context)?.text == expected, "\(variant.file) \(kind) \(locale)")
                        #expect(flat.render(context)?.missing == catalog.checker.missing(in: part.nodes, file: variant.file, context: context))
                    }
                }
            }
        }
        // The shipped SMS templates are all text, variables and inline partials: the flat path is what runs.
        #expect(smsParts > 0)
        #expect(flatSMSParts == smsParts)
    }

    @Test func randomTemplatesAgreeWithSwiftMustache() throws {
        var generator = SeededRandom()
        let seed = generator.description
        let texts = ["Hola ", "a", " ", "  ", "\n", "\r\n", "\t", ", ", "<b>", "&", "'", "\"", "ñ", "é\u{301}", "{", "}", "x}", "😀", ".", "\n  "]
        let variables = ["{{name}}", "{{ name }}", "{{{name}}}", "{{& name}}", "{{contact.first_name}}", "{{ money.amount }}",
                         "{{missing}}", "{{contact.missing}}", "{{flag}}", "{{list}}", "{{contact}}", "{{date.due}}", "{{{ contact.first_name }}}",
                         "{{a.b.c}}", "{{name.x}}", "{{ money.missing }}", "{{date.nothing}}"]
        let values = ["Ana", "O'Brien & <Co>", "", "  ", "\"q\"", "a\nb", "&amp;", "ñandú"]
        func piece(_ partials: Bool) -> String {
            switch Int.random(in: 0..<(partials ? 10 : 8), using: &generator) {
            case 0..<4: texts.randomElement(using: &generator)!
            case 4..<8: variables.randomElement(using: &generator)!
            default: ["{{> p1}}", " {{> p2}} ", "\n{{> p1}}\n", "x{{>p2}}", "\n  {{> p1}}  \n", " {{> p1}}\r\n", "{{ >p1 }}", "\t{{>p2}}x"]
                .randomElement(using: &generator)!
            }
        }
        var compared = 0
        for _ in 0..<3000 {
            let partials = ["p1": (0..<Int.random(in: 0...4, using: &generator)).map { _ in piece(false) }.joined(),
                            "p2": (0..<Int.random(in: 0...4, using: &generator)).map { _ in piece(false) }.joined() + "{{> p1}}"]
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in piece(true) }.joined()
            let html = Bool.random(using: &generator)
            let context: [String: Any] = [
                "name": values.randomElement(using: &generator)!,
                "contact": ["first_name": values.randomElement(using: &generator)!],
                "money": MoneyHelper(values: ["amount": "1234.5"], currency: "USD", locale: "en-US"),
                "date": DateHelper(values: ["due": "2026-12-01"], locale: "es-CR"),
                "flag": true,
                "list": ["a", "b"],
            ]
            // What swift-mustache or the tag scan cannot parse never loads (the catalog refuses the file), so never renders.
            guard let expected = try? mustache(text, html: html, partials: partials, context: context),
                  let nodes = try? TagScanner.scan(text),
                  let p1 = try? TagScanner.scan(partials["p1"]!), let p2 = try? TagScanner.scan(partials["p2"]!) else { continue }
            let sources = ["p1": PartialSource(file: "_partials/p1.mustache", text: partials["p1"]!, nodes: p1),
                           "p2": PartialSource(file: "_partials/p2.mustache", text: partials["p2"]!, nodes: p2)]
            guard let flat = FlatTemplate.make(text, html: html, file: "t/sms.mustache", nodes: nodes, partials: sources),
                  let (rendered, missing) = flat.render(context) else { continue }
            // The check made while rendering names what the strict checker names, in the same order.
            let checker = StrictChecker(partials: sources.mapValues { ($0.file, $0.nodes) })
            #expect(missing == checker.missing(in: nodes, file: "t/sms.mustache", context: context), "\(text.debugDescription) with \(partials), \(seed)")
            compared += 1
            // A part is trimmed once rendered (TemplateCatalog.render); what the partials inside it
            // render is compared exactly.
            #expect(rendered.trimmingSpaces() == expected.trimmingSpaces(), "\(html ? "html" : "text"): \(text.debugDescription) with \(partials), \(seed)")
        }
        #expect(compared > 300, "only \(compared) random templates were flat, \(seed)")
    }

    @Test func whatIsNotFlatIsLeftToSwiftMustache() {
        for text in ["{{#a}}x{{/a}}", "{{^a}}x{{/a}}", "a {{! note }} b", "{{> p1}}", "  {{> p1}}\nx", "x\n{{> p1}}  \ny", "{{lower(name)}}",
                     "{{.}}", "{{=<% %>=}}", "{{name", "{{}}", "a\u{2028}b", "{{> nowhere}} x"] {
            #expect(FlatTemplate.flatten(text, html: false, partials: ["p1": "P"]) == nil, "\(text.debugDescription)")
        }
        #expect(FlatTemplate.flatten("a {{> p1}} b", html: false, partials: ["p1": "{{#x}}{{/x}}"]) == nil)
        #expect(FlatTemplate.flatten("a {{> p1}} b", html: false, partials: ["p1": "P"])?.render([:])?.text == "a P b")
    }
}
