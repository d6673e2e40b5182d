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
        case "console.css": (body, type) = (css + complianceCSS, "text/css; charset=utf-8")
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
        @media (min-width: 1020px) and (max-width: 1339px) { .width.wide { margin: 0 30px; } }
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
        .row-chosen td { background: #fff7bf; }
        dd code, .notice code { overflow-wrap: anywhere; }
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
        .diff { list-style: none; padding: 0; margin: 0 0 30px; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: .95rem; }
        .diff-line { white-space: pre-wrap; word-break: break-word; padding: 2px 10px; border-left: 5px solid transparent; min-height: 1.4em; }
        .diff-removed { background: #f6d7d2; border-color: #d4351c; }
        .diff-added { background: #cce2d8; border-color: #00703c; }
        .diff del, .diff ins { text-decoration: none; }
        .diff-removed::before { content: "− "; }
        .diff-added::before { content: "+ "; }
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

        // The template editor: a live preview while typing (POST to the JSON endpoint with the
        // page's CSRF token), the SMS cost counted here with the gateway's own GSM-7 tables
        // (gsm7.js), and the lint findings placed beside their lines.
        window.ConsoleEditor = {
          smsInfo: function (text) {
            var G = window.GSM7;
            var basic = new Set(Array.from(G.basic)), extended = new Set(Array.from(G.extended));
            var septets = 0, parts = 1, used = 0, gsm = true, ch, cost;
            for (ch of text) {
              cost = basic.has(ch) ? 1 : (extended.has(ch) ? 2 : 0);
              if (cost === 0) { gsm = false; break; }
              septets += cost;
              if (used + cost > G.part) { parts += 1; used = 0; }
              used += cost;
            }
            var characters = (typeof Intl !== "undefined" && Intl.Segmenter)
              ? Array.from(new Intl.Segmenter().segment(text)).length : Array.from(text).length;
            if (gsm) { return { encoding: "GSM-7", units: septets, segments: septets <= G.single ? 1 : parts, characters: characters, forcing: [] }; }
            var units = 0; parts = 1; used = 0;
            var forcing = [];
            for (ch of text) {
              cost = ch.codePointAt(0) > 0xFFFF ? 2 : 1;
              units += cost;
              if (used + cost > G.ucs2Part) { parts += 1; used = 0; }
              used += cost;
              if (!basic.has(ch) && !extended.has(ch) && forcing.indexOf(ch) < 0) { forcing.push(ch); }
            }
            return { encoding: "UCS-2", units: units, segments: units <= G.ucs2Single ? 1 : parts, characters: characters, forcing: forcing };
          },

          start: function () {
            var form = document.getElementById("editor-form");
            if (!form || !window.fetch) { return; }
            var editor = this;
            var source = document.getElementById("source"), job = document.getElementById("job");
            var channel = document.getElementById("channel"), tone = document.getElementById("tone"), locale = document.getElementById("locale");
            var csrf = form.querySelector("input[name=csrf]").value;
            var url = form.getAttribute("data-preview-url"), file = form.getAttribute("data-file");
            var phrases = {};
            document.querySelectorAll("#phrases [data-phrase]").forEach(function (el) { phrases[el.getAttribute("data-phrase")] = el.textContent; });
            var panel = document.getElementById("preview"), lint = document.getElementById("lint-results");
            var timer = null, busy = false, again = false;

            function el(tag, attributes, children) {
              var node = document.createElement(tag);
              Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
              (children || []).forEach(function (child) { node.append(child); });
              return node;
            }
            function marked(text, forcing) {
              var p = el("p", { "class": "preview-text", id: "preview-body" }), run = "";
              for (var ch of text) {
                if (forcing.indexOf(ch) >= 0) { if (run) { p.append(run); run = ""; } p.append(el("mark", {}, [ch])); } else { run += ch; }
              }
              if (run) { p.append(run); }
              return p;
            }
            function renderPreview(outcome) {
              panel.replaceChildren();
              var preview = outcome.preview;
              if (!preview) {
                panel.append(el("p", { "class": "error-message", id: "preview-error" }, [phrases.error.replace("{message}", outcome.error || "")]));
                return;
              }
              panel.append(el("dl", { "class": "body" }, [
                el("dt", { "class": "label" }, [phrases.variant]), el("dd", {}, [el("code", { id: "preview-variant" }, [preview.variant])]),
                el("dt", { "class": "label" }, [phrases.tone]), el("dd", {}, [preview.tone + " (" + preview.tone_rule + ")"]),
                el("dt", { "class": "label" }, [phrases.locale]), el("dd", {}, [preview.locale])]));
              if (preview.subject != null) {
                panel.append(el("h3", { "class": "heading-s" }, [phrases.subject]), el("p", { "class": "preview-text" }, [preview.subject]));
              }
              var info = preview.sms ? editor.smsInfo(preview.body) : null;
              panel.append(el("h3", { "class": "heading-s" }, [phrases.body]), marked(preview.body, info ? info.forcing : []));
              if (info) {
                var server = preview.sms;
                var meter = el("div", { "class": "sms-meter", id: "sms-meter", "data-server-encoding": server.encoding,
                                        "data-server-segments": String(server.segments), "data-server-units": String(server.units) }, [
                  el("h3", { "class": "heading-s" }, [phrases.meter]),
                  el("p", { "class": "body" }, [phrases.encoding + ": ", el("strong", { id: "sms-encoding" }, [info.encoding]), " · ",
                    phrases.segments + ": ", el("strong", { id: "sms-segments" }, [String(info.segments)]), " · ",
                    phrases.characters + ": ", el("strong", { id: "sms-characters" }, [String(info.characters)]), " · ",
                    phrases.units + ": ", el("span", { id: "sms-units" }, [String(info.units)])])]);
                var forcing = el("p", { "class": "body sms-chars", id: "sms-forcing" });
                if (info.forcing.length === 0) { forcing.append(phrases.none); } else {
                  forcing.append(phrases.forcing + " ");
                  info.forcing.forEach(function (ch) { forcing.append(el("mark", {}, [ch]), " "); });
                }
                meter.append(forcing);
                if (outcome.sms_encoding === "gsm7-transliterate") { meter.append(el("p", { "class": "hint" }, [phrases.transliterate])); }
                panel.append(meter);
              }
              if (preview.push_payload_bytes != null) { panel.append(el("p", { "class": "body" }, [phrases.push.replace("{bytes}", String(preview.push_payload_bytes))])); }
              if (preview.html != null) { panel.append(el("h3", { "class": "heading-s" }, [phrases.html]), el("pre", {}, [preview.html])); }
            }
            function renderLint(findings) {
              lint.replaceChildren();
              if (findings.length === 0) { lint.append(el("p", { "class": "body", id: "lint-clean" }, [phrases.clean])); return; }
              function item(f) { return el("div", { "class": "finding" + (f.severity === "warning" ? " finding-warning" : "") }, [el("strong", {}, [f.severity]), ": " + f.message]); }
              var other = findings.filter(function (f) { return f.line == null; });
              if (other.length) {
                lint.append(el("h3", { "class": "heading-s", id: "lint-other" }, [phrases.other]));
                lint.append(el("ul", { "class": "findings", id: "lint-other-list" }, other.map(function (f) {
                  return el("li", { "class": "finding" + (f.severity === "warning" ? " finding-warning" : "") }, [el("code", {}, [f.location]), ": " + f.message]);
                })));
              }
              var placed = {};
              findings.forEach(function (f) { if (f.line != null) { (placed[f.line] = placed[f.line] || []).push(f); } });
              if (Object.keys(placed).length === 0) { return; }
              var list = el("ol", { "class": "source-lines" });
              source.value.split("\n").forEach(function (text, index) {
                var n = index + 1, here = placed[n] || [];
                if (!here.length && !placed[n - 1] && !placed[n + 1]) { return; }
                list.append(el("li", { "class": "source-line" + (here.length ? " source-line-error" : ""), id: "line-" + n, tabindex: "-1" },
                  [el("span", { "class": "number" }, [String(n)]), el("span", { "class": "text" }, [text])].concat(here.map(item))));
              });
              lint.append(list);
            }
            function send() {
              if (busy) { again = true; return; }
              busy = true;
              var body = JSON.stringify({ file: file, source: source.value, channel: channel.value, tone: tone.value, locale: locale.value, job: job ? job.value : "" });
              fetch(url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: body })
                .then(function (response) { return response.json(); })
                .then(function (outcome) {
                  if (outcome.error && outcome.error.code) { renderPreview({ preview: null, error: outcome.error.message }); return; }
                  renderPreview(outcome); renderLint(outcome.findings || []);
                  panel.setAttribute("data-state", "ready");
                })
                .catch(function (error) { renderPreview({ preview: null, error: String(error) }); })
                .finally(function () { busy = false; if (again) { again = false; send(); } });
            }
            function schedule() {
              panel.setAttribute("data-state", "updating");
              clearTimeout(timer);
              timer = setTimeout(send, 250);
            }
            source.addEventListener("input", schedule);
            if (job) { job.addEventListener("input", schedule); }
            [channel, tone, locale].forEach(function (select) { select.addEventListener("change", schedule); });
            panel.setAttribute("data-state", "ready");
          }
        };
        """#
}
