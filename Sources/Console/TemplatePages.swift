import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import Templates

/// Marketing's pages: the templates in service and their reload status.
extension Console {
    func addTemplatePages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("templates", use: page([.marketing]) { [self] _, _, visit in templateList(visit) })
    }

    func templateList(_ visit: Visit) -> Response {
        let catalog = templates.current
        let status = templates.currentStatus
        let t = { (phrase: Phrase, values: [String: String]) in visit.t(phrase, values) }
        let reload: HTML
        if let refused = status.rejectedAt {
            let errors: [HTML] = status.rejectedErrors.prefix(50).map { "<li><code>\($0)</code></li>" }
            reload = """
                <div class="notice notice-warning" role="status"><h2 class="heading-s">\(t(.templatesRefusedTitle, ["time": formatTimestamp(refused)]))</h2>
                <p class="body">\(t(.templatesRefusedBody, [:]))</p><ul>\(errors)</ul></div>
                """
        } else {
            reload = "<div class=\"notice notice-success\" role=\"status\">\(t(.templatesInService, ["time": formatTimestamp(status.loadedAt)]))</div>"
        }
        let rows: [HTML] = catalog.templateNames.map { name in
            let settings = catalog.settings(of: name) ?? TemplateSettings()
            let channels = Channel.allCases.filter { catalog.hasVariant(template: name, channel: $0) }.map(\.rawValue).joined(separator: ", ")
            return """
                <tr><td><a href="/console/templates/\(HTML.component(name))">\(name)</a>\(settings.description.map { "<br><span class=\"hint\">\($0)</span>" as HTML })</td>
                <td>\(settings.category.rawValue)</td><td>\(channels)</td><td>\(catalog.variantFiles(of: name).count)</td></tr>
                """
        }
        return Reply.html(Layout.page(visit, title: t(.templatesTitle, [:]), main: """
            <h1 class="heading-l">\(t(.templatesTitle, [:]))</h1>
            \(reload)
            <div class="table-wrap"><table>
            <caption class="visually-hidden">\(t(.templatesTitle, [:]))</caption>
            <thead><tr><th scope="col">\(t(.templatesName, [:]))</th><th scope="col">\(t(.templatesCategory, [:]))</th>
            <th scope="col">\(t(.templatesChannels, [:]))</th><th scope="col">\(t(.templatesVariants, [:]))</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """), visit: visit)
    }
}
