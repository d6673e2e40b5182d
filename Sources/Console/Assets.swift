import Foundation
import GatewayCore
import Hummingbird
import NIOCore

/// The console's CSS and JavaScript, compiled into the binary (the Docker image ships only the
/// binary and the configuration), served from /console/static/. No CDN, no web fonts.
enum Assets {
    static func response(_ file: String) -> Response {
        let (body, type): (String, String)
        switch file {
        case "console.css": (body, type) = (css, "text/css; charset=utf-8")
        case "console.js": (body, type) = (script, "text/javascript; charset=utf-8")
        case "gsm7.js": (body, type) = (gsm7, "text/javascript; charset=utf-8")
        default: return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The GSM 03.38 tables the server counts with (`SMSEncoding.gsm7Tables`), so the editor's
    /// live count is the gateway's count.
    static let gsm7: String = {
        let tables = SMSEncoding.gsm7Tables
        let value = JSONValue.object(["basic": .string(tables.basic), "extended": .string(tables.extended),
                                      "single": .number(Double(SMSEncoding.gsm7Single)), "part": .number(Double(SMSEncoding.gsm7Part)),
                                      "ucs2Single": .number(Double(SMSEncoding.ucs2Single)), "ucs2Part": .number(Double(SMSEncoding.ucs2Part))])
        return "\"use strict\";\nwindow.GSM7 = \(value.serialized);\n"
    }()

    static let css = #"""
        *, *::before, *::after { box-sizing: border-box; }
        html { font-size: 100%; -webkit-text-size-adjust: 100%; }
        body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 1.1875rem; line-height: 1.32;
               color: #0b0c0c; background: #fff; }
        a { color: #1d70b8; text-decoration: underline; text-underline-offset: .1em; }
        a:visited { color: #4c2c92; }
        a:hover { color: #003078; text-decoration-thickness: 3px; }
        a:focus, button:focus, input:focus, textarea:focus, select:focus, summary:focus, [tabindex]:focus {
            outline: 3px solid #ffdd00; outline-offset: 0; box-shadow: 0 -2px #ffdd00, 0 4px #0b0c0c; }
        a:focus { background: #ffdd00; color: #0b0c0c; text-decoration: none; }
        .width { max-width: 960px; margin: 0 15px; }
        .width.wide { max-width: 1280px; }
        @media (min-width: 40.0625em) { .width { margin: 0 30px; } }
        @media (min-width: 1020px) { .width { margin: 0 auto; } }
        @media (min-width: 1340px) { .width.wide { margin: 0 auto; } }
        .skip-link { position: absolute; left: -9999px; padding: 10px 15px; background: #ffdd00; color: #0b0c0c; }
        .skip-link:focus { left: 0; top: 0; z-index: 10; }
        .visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        .header { background: #0b0c0c; color: #fff; border-bottom: 10px solid #1d70b8; }
        .header-row { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 30px; padding: 12px 0; }
        .header a, .header a:visited { color: #fff; }
        .header a:focus { color: #0b0c0c; }
        .header-name { font-weight: 700; font-size: 1.5rem; text-decoration: none; }
        .nav { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0 20px; }
        .nav a { font-weight: 700; }
        .nav a[aria-current="page"] { text-decoration-thickness: 3px; }
        .header-tools { margin-left: auto; display: flex; flex-wrap: wrap; gap: 10px 20px; align-items: center; font-size: 1rem; }
        .inline-form { display: inline; margin: 0; }
        .link-button { background: none; border: 0; padding: 0; color: inherit; font: inherit; text-decoration: underline; cursor: pointer; }
        .header .link-button { color: #fff; }
        .main { display: block; padding: 30px 0 60px; }
        .main:focus { outline: none; box-shadow: none; }
        .back-link { display: inline-block; margin-top: 15px; font-size: 1rem; color: #0b0c0c; }
        .back-link::before { content: "\2039  "; }
        .footer { border-top: 1px solid #b1b4b6; background: #f3f2f1; padding: 25px 0; font-size: 1rem; color: #505a5f; }
        .heading-l { font-size: 2.25rem; line-height: 1.1; margin: 0 0 30px; }
        .heading-m { font-size: 1.5rem; margin: 0 0 15px; }
        .heading-s { font-size: 1.1875rem; margin: 0 0 10px; }
        .body { margin: 0 0 20px; }
        .hint { color: #505a5f; }
        .notice { border-left: 10px solid #1d70b8; background: #f3f2f1; padding: 15px; margin-bottom: 30px; }
        .notice-success { border-color: #00703c; }
        .notice-warning { border-color: #d4351c; }
        .sections { list-style: none; padding: 0; margin: 0; display: grid; gap: 20px; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); }
        .section-card { border-top: 5px solid #1d70b8; padding-top: 15px; }
        .error-summary { border: 5px solid #d4351c; padding: 15px 20px; margin-bottom: 30px; }
        .error-summary-title { margin: 0 0 15px; font-size: 1.5rem; }
        .error-summary-list { margin: 0; padding-left: 20px; }
        .error-summary-list a { color: #d4351c; font-weight: 700; }
        .form-group { margin-bottom: 30px; }
        .form-group-error { border-left: 5px solid #d4351c; padding-left: 15px; }
        .label { display: block; font-weight: 700; margin-bottom: 5px; }
        .hint { display: block; margin: 0 0 10px; }
        .error-message { color: #d4351c; font-weight: 700; margin: 0 0 10px; }
        .input, .select, .textarea { font: inherit; border: 2px solid #0b0c0c; padding: 5px; width: 100%; max-width: 40em; background: #fff; }
        .input-error, .textarea-error { border-color: #d4351c; }
        .textarea { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 1rem; min-height: 12em; max-width: none; }
        .button { font: inherit; font-weight: 400; background: #00703c; color: #fff; border: 2px solid transparent; padding: 8px 12px;
                  box-shadow: 0 2px 0 #002d18; cursor: pointer; margin: 0 10px 20px 0; }
        .button:hover { background: #005a30; }
        .button-secondary { background: #f3f2f1; color: #0b0c0c; box-shadow: 0 2px 0 #929191; }
        .button-secondary:hover { background: #dbdad9; }
        table { border-collapse: collapse; width: 100%; margin-bottom: 30px; }
        th, td { text-align: left; padding: 10px 20px 10px 0; border-bottom: 1px solid #b1b4b6; vertical-align: top; }
        th { font-weight: 700; }
        .table-wrap { overflow-x: auto; }
        .tag { display: inline-block; padding: 2px 8px; font-size: .9rem; font-weight: 700; background: #cce2d8; color: #005a30; }
        .tag-red { background: #f6d7d2; color: #942514; }
        .tag-grey { background: #eeefef; color: #383f43; }
        code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .95rem; }
        pre { white-space: pre-wrap; word-break: break-word; background: #f3f2f1; padding: 10px; margin: 0 0 20px; }
        .editor { display: grid; gap: 30px; grid-template-columns: 1fr; }
        @media (min-width: 60em) { .editor { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); } }
        .findings { list-style: none; padding: 0; margin: 0 0 20px; }
        .finding { border-left: 5px solid #d4351c; padding: 5px 10px; margin-bottom: 10px; background: #fef7f6; }
        .finding-warning { border-color: #f47738; background: #fff7f0; }
        .source-lines { counter-reset: line; list-style: none; padding: 0; margin: 0 0 20px; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: .9rem; }
        .source-line { display: grid; grid-template-columns: 3.5em minmax(0, 1fr); gap: 10px; }
        .source-line .number { color: #505a5f; text-align: right; }
        .source-line .text { white-space: pre-wrap; word-break: break-word; }
        .source-line-error { background: #fef7f6; }
        .source-line .finding { grid-column: 2; margin: 2px 0 8px; font-family: system-ui, sans-serif; }
        .sms-meter { border: 2px solid #0b0c0c; padding: 10px 15px; margin-bottom: 20px; }
        .sms-meter strong { font-size: 1.5rem; }
        .sms-chars mark, .preview-text mark { background: #ffdd00; color: #0b0c0c; outline: 1px solid #0b0c0c; }
        .preview-text { white-space: pre-wrap; word-break: break-word; border: 1px solid #b1b4b6; padding: 10px; background: #fff; margin: 0 0 20px; }
        details { margin-bottom: 20px; }
        summary { cursor: pointer; color: #1d70b8; text-decoration: underline; }
        fieldset { border: 0; padding: 0; margin: 0 0 20px; }
        legend { font-weight: 700; margin-bottom: 10px; }
        .inline-fields { display: flex; flex-wrap: wrap; gap: 10px 20px; }
        .inline-fields .form-group { margin-bottom: 10px; }
        """#

    /// Small plain JavaScript: nothing depends on it (every page works without it).
    static let script = #"""
        "use strict";
        document.addEventListener("DOMContentLoaded", function () {
          // The error summary takes focus, so screen readers announce it and Tab starts there.
          var summary = document.querySelector("[data-focus-on-load]");
          if (summary) { summary.focus(); }
          // Links in the error summary move focus to the field, not just scroll to it.
          document.querySelectorAll(".error-summary-list a").forEach(function (link) {
            link.addEventListener("click", function (event) {
              var id = (link.getAttribute("href") || "").slice(1);
              var target = document.getElementById(id);
              if (target) { event.preventDefault(); target.scrollIntoView(); target.focus(); }
            });
          });
          if (window.ConsoleEditor) { window.ConsoleEditor.start(); }
        });
        """#
}
