import Foundation
import GatewayHTTP

/// The one layout every console page uses, and its shared pieces (error summary, fields, buttons),
/// in the GOV.UK Design System's manner: one thing per page, the error summary first, plain words,
/// labels on every field, usable with the keyboard and on a phone, readable without JavaScript.
enum Layout {
    /// A whole page. `errors` put "Error: " before the title and the error summary above `main`.
    static func page(_ visit: Visit, title: String, errors: [FieldError] = [], backLink: (href: String, text: String)? = nil,
                     wide: Bool = false, main: HTML) -> HTML {
        let service = visit.t(.serviceName)
        let titlePrefix = errors.isEmpty ? "" : (visit.language == .es ? "Error: " : "Error: ")
        let nav: [HTML] = Console.sections.filter { visit.shows($0) }.map { section in
            let current = visit.path.hasPrefix(section.path)
            return "<li class=\"nav-item\"><a href=\"\(section.path)\"\(current ? HTML(" aria-current=\"page\"") : .empty)>\(visit.t(section.title))</a></li>"
        }
        let account: HTML
        if let caller = visit.caller {
            account = """
                <div class="account"><span class="account-name">\(visit.t(.signedInAs, ["name": caller.name]))</span>
                <form method="post" action="/console/sign-out" class="inline-form">\(visit.csrfField)<button type="submit" class="link-button">\(visit.t(.signOut))</button></form></div>
                """
        } else {
            account = .empty
        }
        let other = visit.language.other
        let switchHref = "/console/language?to=\(other.rawValue)&back=\(HTML.component(Console.safeNext(visit.path) ?? "/console/"))"
        return """
            <!DOCTYPE html>
            <html lang="\(visit.language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(titlePrefix + title) – \(service)</title>
            <link rel="stylesheet" href="/console/static/console.css">
            <script src="/console/static/gsm7.js" defer></script>
            <script src="/console/static/console.js" defer></script>
            </head>
            <body>
            <a href="#main" class="skip-link">\(visit.t(.skipToContent))</a>
            <header class="header" role="banner"><div class="width header-row">
            <a href="/console/" class="header-name">\(service)</a>
            \(nav.isEmpty ? HTML.empty : "<nav aria-label=\"\(service)\"><ul class=\"nav\">\(nav)</ul></nav>")
            <div class="header-tools">\(account)
            <a href="\(switchHref)" class="language" hreflang="\(other.rawValue)" lang="\(other.rawValue)" aria-label="\(visit.t(.languageSwitchLabel))">\(visit.t(.languageSwitch))</a></div>
            </div></header>
            <div class="width\(wide ? HTML(" wide") : .empty)">
            \(backLink.map { "<a href=\"\($0.href)\" class=\"back-link\">\($0.text)</a>" as HTML })
            <main id="main" class="main" tabindex="-1">
            \(errorSummary(visit, errors))
            \(main)
            </main>
            </div>
            <footer class="footer"><div class="width">\(visit.t(.footerText))</div></footer>
            </body>
            </html>
            """
    }

    /// "There is a problem" with a link to each field; focused on load by console.js.
    static func errorSummary(_ visit: Visit, _ errors: [FieldError]) -> HTML {
        guard !errors.isEmpty else { return .empty }
        let items: [HTML] = errors.map { "<li><a href=\"#\($0.field)\">\($0.message)</a></li>" }
        return """
            <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" data-focus-on-load>
            <h2 class="error-summary-title" id="error-summary-title">\(visit.t(.errorSummaryTitle))</h2>
            <ul class="error-summary-list">\(items)</ul></div>
            """
    }

    /// The message beside a field in error (empty when it has none).
    static func fieldError(_ errors: [FieldError], _ field: String) -> HTML {
        guard let error = errors.first(where: { $0.field == field }) else { return .empty }
        return "<p class=\"error-message\" id=\"\(field)-error\"><span class=\"visually-hidden\">Error:</span> \(error.message)</p>"
    }

    /// A page with a title and a paragraph (errors, refusals).
    static func message(_ visit: Visit, title: Phrase, body: Phrase) -> HTML { message(visit, title: title, text: visit.t(body)) }

    static func message(_ visit: Visit, title: Phrase, text: String) -> HTML {
        page(visit, title: visit.t(title), main: """
            <h1 class="heading-l">\(visit.t(title))</h1>
            <p class="body">\(text)</p>
            <p class="body"><a href="/console/">\(visit.t(.backHome))</a></p>
            """)
    }

    static func signIn(_ visit: Visit, csrf: String, next: String?, notice: Phrase?, errors: [FieldError]) -> HTML {
        let hours = visit.idleSeconds % 3600 == 0 ? String(visit.idleSeconds / 3600) : String(format: "%.1f", Double(visit.idleSeconds) / 3600)
        let invalid = !errors.isEmpty
        return page(visit, title: visit.t(.signInTitle), errors: errors, main: """
            \(notice.map { "<div class=\"notice\" role=\"status\">\(visit.t($0))</div>" as HTML })
            <h1 class="heading-l">\(visit.t(.signInTitle))</h1>
            <p class="body">\(visit.t(.signInLead, ["hours": hours]))</p>
            <form method="post" action="/console/sign-in" novalidate>
            <input type="hidden" name="csrf" value="\(csrf)">
            \(next.map { "<input type=\"hidden\" name=\"next\" value=\"\($0)\">" as HTML })
            <div class="form-group\(invalid ? HTML(" form-group-error") : .empty)">
            <label class="label" for="token">\(visit.t(.tokenLabel))</label>
            <p class="hint" id="token-hint">\(visit.t(.tokenHint))</p>
            \(fieldError(errors, "token"))
            <input class="input\(invalid ? HTML(" input-error") : .empty)" id="token" name="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="token-hint\(invalid ? HTML(" token-error") : .empty)">
            </div>
            <button type="submit" class="button">\(visit.t(.signInButton))</button>
            </form>
            """)
    }

    static func home(_ visit: Visit, sections: [ConsoleSection]) -> HTML {
        let items: [HTML] = sections.map { section in
            """
            <li class="section-card"><h2 class="heading-m"><a href="\(section.path)">\(visit.t(section.title))</a></h2>
            <p class="body">\(visit.t(section.summary))</p></li>
            """
        }
        return page(visit, title: visit.t(.homeTitle), main: """
            <h1 class="heading-l">\(visit.t(.homeTitle))</h1>
            <p class="body hint">\(visit.t(.yourRoles, ["roles": visit.rolesText]))</p>
            \(sections.isEmpty ? "<p class=\"body\">\(visit.t(.nothingForRoles))</p>" as HTML : "<ul class=\"sections\">\(items)</ul>")
            """)
    }
}
