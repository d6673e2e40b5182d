import Foundation

/// The console's languages. Chosen by the `gw_console_lang` cookie (the switch link sets it), else
/// the browser's Accept-Language, else the gateway's default locale.
public enum Language: String, Sendable, CaseIterable {
    case es, en

    /// The other language, for the switch link.
    var other: Language { self == .es ? .en : .es }

    /// The first of es/en in Accept-Language by preference (q), else `fallback`.
    static func negotiate(acceptLanguage: String?, cookie: String?, fallback: Language) -> Language {
        if let cookie, let chosen = Language(rawValue: cookie) { return chosen }
        guard let header = acceptLanguage else { return fallback }
        var best: (language: Language, q: Double)?
        for item in header.split(separator: ",").prefix(32) {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased() else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            guard q > 0, let language = Language(rawValue: primary) else { continue }
            // Equal q: the one listed first wins.
            if best == nil || q > best!.q { best = (language, q) }
        }
        return best?.language ?? fallback
    }

    /// The language of a locale like es-CR or en-US.
    static func of(locale: String) -> Language? { Language(rawValue: locale.split(separator: "-").first.map { $0.lowercased() } ?? "") }
}

/// Every phrase the console shows. Each language's table below must have every phrase (a test
/// checks); `{name}` placeholders are filled by `Strings.text(_:_:)`. To add a page's words: add
/// the cases here and a line in both tables.
public enum Phrase: String, Sendable, CaseIterable {
    case serviceName, skipToContent, languageSwitch, languageSwitchLabel
    case signInTitle, signInLead, tokenLabel, tokenHint, signInButton, signOut, signedInAs, signedOut, sessionEnded
    case tokenMissing, tokenInvalid, tokenNoRoles
    case homeTitle, homeLead, nothingForRoles, yourRoles
    case errorSummaryTitle, forbiddenTitle, forbiddenBody, csrfTitle, csrfBody, notFoundTitle, notFoundBody
    case badRequestTitle, serverErrorTitle, serverErrorBody, tryAgain, backHome
    case sectionTemplates, sectionTemplatesSummary, sectionTones, sectionTonesSummary, sectionApprovals, sectionApprovalsSummary
    case sectionContacts, sectionContactsSummary, sectionEscalations, sectionEscalationsSummary, sectionReports, sectionReportsSummary
    case sectionAudit, sectionAuditSummary, sectionStatus, sectionStatusSummary
    case templatesTitle, templatesInService, templatesRefusedTitle, templatesRefusedBody, templatesName, templatesCategory, templatesChannels, templatesVariants
    case footerText
    case templateFiles, templateFile, templateChannel, templateTone, templateLanguage, templateEdit, templateAllTemplates, templateSettings, editorTitle, editorCaption, sourceLabel, sourceHint, saveButton, previewButton, previewTitle, previewWith, channelLabel, toneLabel, toneByPolicy, localeLabel, localeFromJob, jobLabel, jobHint, previewVariant, previewToneUsed, previewLocaleUsed, previewSubject, previewBody, previewHTML, previewPushBytes, previewError, previewUpdating, smsMeterTitle, smsEncoding, smsCharacters, smsUnits, smsSegments, smsForcing, smsNoneForcing, smsTransliterate, lintTitle, lintClean, lintLine, lintOther, savedNotice, savedReloadRefused, unchangedNotice, conflictError, findingOnLine, saveFailed, sourceMissing
    case historyTitle, historyLink, historyEmpty, historyWhen, historyWho, historyChange, historyView, historyEdited, historyRestored, historyNoText, changeTitle, changeBy, restoreButton, restoreHint, restoredNotice, diffSame, diffRemoved, diffAdded
}

public enum Strings {
    public static let english: [Phrase: String] = [
        .serviceName: "Notification gateway",
        .skipToContent: "Skip to main content",
        .languageSwitch: "Español",
        .languageSwitchLabel: "Ver en español",
        .signInTitle: "Sign in",
        .signInLead: "Paste the API token you were given. You only need it once: after that you stay signed in until you sign out or stop using the console for {hours} hours.",
        .tokenLabel: "API token",
        .tokenHint: "It starts with gw_. Ask the gateway's operator if you do not have one.",
        .signInButton: "Sign in",
        .signOut: "Sign out",
        .signedInAs: "Signed in as {name}",
        .signedOut: "You have signed out.",
        .sessionEnded: "Your session has ended. Sign in again to continue.",
        .tokenMissing: "Enter your API token",
        .tokenInvalid: "The API token is not valid. Check you copied all of it, or ask for a new one",
        .tokenNoRoles: "This token's roles ({roles}) have no pages in the console",
        .homeTitle: "What do you want to do?",
        .homeLead: "You see the sections your roles allow.",
        .nothingForRoles: "There is nothing in the console for your roles yet.",
        .yourRoles: "Your roles: {roles}",
        .errorSummaryTitle: "There is a problem",
        .forbiddenTitle: "You cannot use this page",
        .forbiddenBody: "This page needs the {needed} role. Your roles: {roles}.",
        .csrfTitle: "This form could not be accepted",
        .csrfBody: "The form was not sent from this console page, or it is from an old page. Nothing was changed. Go back, reload the page and try again.",
        .notFoundTitle: "Page not found",
        .notFoundBody: "Check the address, or start again from the home page.",
        .badRequestTitle: "The request could not be read",
        .serverErrorTitle: "Sorry, there is a problem with the service",
        .serverErrorBody: "Nothing was changed. Try again later; if it keeps happening, tell the gateway's operator (reference: {reference}).",
        .tryAgain: "Try again",
        .backHome: "Back to the home page",
        .sectionTemplates: "Templates",
        .sectionTemplatesSummary: "Edit the messages customers receive, preview them and see their SMS cost.",
        .sectionTones: "Tone policy",
        .sectionTonesSummary: "The rules that choose each message's tone, and which tone and file a customer would get.",
        .sectionApprovals: "Approvals",
        .sectionApprovalsSummary: "Template changes waiting for a compliance user's approval before they go into service.",
        .sectionContacts: "Contacts",
        .sectionContactsSummary: "Find a contact and read everything sent to it and why, its replies and its opt-outs.",
        .sectionEscalations: "Escalations",
        .sectionEscalationsSummary: "Replies a person must look at, most urgent first, and resolving them.",
        .sectionReports: "Reports",
        .sectionReportsSummary: "Outcomes by day, channel, segment and reason, delivery by provider, held-back jobs, as charts and CSV.",
        .sectionAudit: "Audit",
        .sectionAuditSummary: "The contact log's head hash and the last verify of its chain; run verify.",
        .sectionStatus: "Status",
        .sectionStatusSummary: "Queue depth, pending entries, providers' breakers and the templates in service.",
        .footerText: "Served by the gateway itself. Every change is recorded in the contact log.",
        .templatesTitle: "Templates",
        .templatesInService: "The templates below are in service (loaded {time}).",
        .templatesRefusedTitle: "The last edit was refused ({time})",
        .templatesRefusedBody: "The templates below are still the ones in service. Fix these problems and save again:",
        .templatesName: "Template",
        .templatesCategory: "Category",
        .templatesChannels: "Channels",
        .templatesVariants: "Files",
        .templateFiles: "Files of this template",
        .templateFile: "File",
        .templateChannel: "Channel",
        .templateTone: "Tone",
        .templateLanguage: "Language",
        .templateEdit: "Edit",
        .templateAllTemplates: "All templates",
        .templateSettings: "Category: {category}. SMS encoding: {encoding}.",
        .editorTitle: "Edit {file}",
        .editorCaption: "Template {name}",
        .sourceLabel: "Source",
        .sourceHint: "Variables go in double braces, like {{contact.first_name}}. A line --- subject (or text, html, title, body) starts a part.",
        .saveButton: "Save",
        .previewButton: "Preview",
        .previewTitle: "Preview",
        .previewWith: "Preview with",
        .channelLabel: "Channel",
        .toneLabel: "Tone",
        .toneByPolicy: "As the tone policy decides",
        .localeLabel: "Locale",
        .localeFromJob: "The contact's (from the job)",
        .jobLabel: "Job data (optional)",
        .jobHint: "Paste a job's JSON to preview with it. Leave it empty to use the template's sample.json.",
        .previewVariant: "File used",
        .previewToneUsed: "Tone",
        .previewLocaleUsed: "Locale",
        .previewSubject: "Subject",
        .previewBody: "Message",
        .previewHTML: "E-mail HTML (source)",
        .previewPushBytes: "Push payload: {bytes} bytes (limit 4096)",
        .previewError: "No preview: {message}",
        .previewUpdating: "Updating the preview…",
        .smsMeterTitle: "SMS as sent",
        .smsEncoding: "Encoding",
        .smsCharacters: "Characters",
        .smsUnits: "Units",
        .smsSegments: "Segments",
        .smsForcing: "Characters that force UCS-2:",
        .smsNoneForcing: "Every character is in the GSM-7 alphabet.",
        .smsTransliterate: "This template replaces letters GSM-7 lacks (á, í, ó, ú…) with plain ones before sending (sms_encoding: gsm7-transliterate); characters with no plain form still force UCS-2.",
        .lintTitle: "Lint",
        .lintClean: "Lint finds nothing to fix.",
        .lintLine: "Line {line}",
        .lintOther: "Findings in other files, or for the whole template",
        .savedNotice: "Saved. This gateway serves the new text now; other gateway processes pick it up within a few seconds. SHA-256 {hash}.",
        .savedReloadRefused: "Saved, but the templates folder as a whole was refused when reloaded; the previous templates stay in service:",
        .unchangedNotice: "Nothing to save: the file already has this text.",
        .conflictError: "Someone else saved this file after you opened it. Copy your changes, reload the page and make them again",
        .findingOnLine: "Line {line}: {message}",
        .saveFailed: "The file was not saved: {message}",
        .sourceMissing: "Enter the template's text",
        .historyTitle: "History of {file}",
        .historyLink: "History of this file: every change saved here, with what changed",
        .historyEmpty: "No change to this file has been saved through the console yet.",
        .historyWhen: "When (UTC)",
        .historyWho: "Who",
        .historyChange: "Change",
        .historyView: "View the change",
        .historyEdited: "Edited",
        .historyRestored: "Restored an earlier text",
        .historyNoText: "This change was recorded without its text, so it cannot be shown or restored.",
        .changeTitle: "A change to {file}",
        .changeBy: "{who} saved this change at {time} (UTC).",
        .restoreButton: "Restore the text from before this change",
        .restoreHint: "Restoring is a new change: it is linted, saved and recorded like any other.",
        .restoredNotice: "The earlier text is restored and in service. The change is recorded in the contact log.",
        .diffSame: "unchanged",
        .diffRemoved: "removed",
        .diffAdded: "added",
    ]

    public static let spanish: [Phrase: String] = [
        .serviceName: "Gateway de notificaciones",
        .skipToContent: "Saltar al contenido principal",
        .languageSwitch: "English",
        .languageSwitchLabel: "View in English",
        .signInTitle: "Iniciar sesión",
        .signInLead: "Pegue el token de API que le dieron. Solo lo necesita una vez: después sigue con la sesión iniciada hasta que la cierre o deje de usar la consola durante {hours} horas.",
        .tokenLabel: "Token de API",
        .tokenHint: "Empieza por gw_. Si no tiene uno, pídalo a quien opera el gateway.",
        .signInButton: "Iniciar sesión",
        .signOut: "Cerrar sesión",
        .signedInAs: "Sesión de {name}",
        .signedOut: "Ha cerrado la sesión.",
        .sessionEnded: "Su sesión terminó. Inicie sesión de nuevo para continuar.",
        .tokenMissing: "Escriba su token de API",
        .tokenInvalid: "El token de API no es válido. Compruebe que lo copió completo o pida uno nuevo",
        .tokenNoRoles: "Los roles de este token ({roles}) no tienen páginas en la consola",
        .homeTitle: "¿Qué quiere hacer?",
        .homeLead: "Ve las secciones que sus roles permiten.",
        .nothingForRoles: "Todavía no hay nada en la consola para sus roles.",
        .yourRoles: "Sus roles: {roles}",
        .errorSummaryTitle: "Hay un problema",
        .forbiddenTitle: "No puede usar esta página",
        .forbiddenBody: "Esta página necesita el rol {needed}. Sus roles: {roles}.",
        .csrfTitle: "No se pudo aceptar el formulario",
        .csrfBody: "El formulario no se envió desde esta página de la consola o es de una página antigua. No se cambió nada. Vuelva atrás, recargue la página e inténtelo de nuevo.",
        .notFoundTitle: "No se encontró la página",
        .notFoundBody: "Revise la dirección o empiece de nuevo desde la página de inicio.",
        .badRequestTitle: "No se pudo leer la solicitud",
        .serverErrorTitle: "Lo sentimos, hay un problema con el servicio",
        .serverErrorBody: "No se cambió nada. Inténtelo más tarde; si sigue pasando, avise a quien opera el gateway (referencia: {reference}).",
        .tryAgain: "Intentar de nuevo",
        .backHome: "Volver a la página de inicio",
        .sectionTemplates: "Plantillas",
        .sectionTemplatesSummary: "Edite los mensajes que reciben los clientes, véalos antes de enviarlos y conozca el costo de cada SMS.",
        .sectionTones: "Política de tono",
        .sectionTonesSummary: "Las reglas que eligen el tono de cada mensaje, y qué tono y archivo recibiría un cliente.",
        .sectionApprovals: "Aprobaciones",
        .sectionApprovalsSummary: "Cambios de plantillas que esperan la aprobación de cumplimiento antes de entrar en servicio.",
        .sectionContacts: "Contactos",
        .sectionContactsSummary: "Busque un contacto y lea todo lo que se le envió y por qué, sus respuestas y sus bajas.",
        .sectionEscalations: "Escalamientos",
        .sectionEscalationsSummary: "Respuestas que una persona debe revisar, las más urgentes primero, y su resolución.",
        .sectionReports: "Informes",
        .sectionReportsSummary: "Resultados por día, canal, segmento y motivo, entregas por proveedor y trabajos retenidos, en gráficos y CSV.",
        .sectionAudit: "Auditoría",
        .sectionAuditSummary: "El hash de la cabeza del registro de contactos y la última verificación de su cadena; verificarla.",
        .sectionStatus: "Estado",
        .sectionStatusSummary: "Profundidad de la cola, entradas pendientes, disyuntores de los proveedores y plantillas en servicio.",
        .footerText: "Servido por el propio gateway. Cada cambio queda registrado en el registro de contactos.",
        .templatesTitle: "Plantillas",
        .templatesInService: "Las plantillas de abajo están en servicio (cargadas {time}).",
        .templatesRefusedTitle: "Se rechazó el último cambio ({time})",
        .templatesRefusedBody: "Las plantillas de abajo siguen en servicio. Corrija estos problemas y guarde de nuevo:",
        .templatesName: "Plantilla",
        .templatesCategory: "Categoría",
        .templatesChannels: "Canales",
        .templatesVariants: "Archivos",
        .templateFiles: "Archivos de esta plantilla",
        .templateFile: "Archivo",
        .templateChannel: "Canal",
        .templateTone: "Tono",
        .templateLanguage: "Idioma",
        .templateEdit: "Editar",
        .templateAllTemplates: "Todas las plantillas",
        .templateSettings: "Categoría: {category}. Codificación SMS: {encoding}.",
        .editorTitle: "Editar {file}",
        .editorCaption: "Plantilla {name}",
        .sourceLabel: "Texto fuente",
        .sourceHint: "Las variables van entre llaves dobles, como {{contact.first_name}}. Una línea --- subject (o text, html, title, body) empieza una parte.",
        .saveButton: "Guardar",
        .previewButton: "Vista previa",
        .previewTitle: "Vista previa",
        .previewWith: "Vista previa con",
        .channelLabel: "Canal",
        .toneLabel: "Tono",
        .toneByPolicy: "El que decida la política de tonos",
        .localeLabel: "Configuración regional",
        .localeFromJob: "La del contacto (según el trabajo)",
        .jobLabel: "Datos del trabajo (opcional)",
        .jobHint: "Pegue el JSON de un trabajo para verlo con esos datos. Déjelo vacío para usar el sample.json de la plantilla.",
        .previewVariant: "Archivo usado",
        .previewToneUsed: "Tono",
        .previewLocaleUsed: "Configuración regional",
        .previewSubject: "Asunto",
        .previewBody: "Mensaje",
        .previewHTML: "HTML del correo (fuente)",
        .previewPushBytes: "Carga push: {bytes} bytes (límite 4096)",
        .previewError: "Sin vista previa: {message}",
        .previewUpdating: "Actualizando la vista previa…",
        .smsMeterTitle: "SMS tal como se envía",
        .smsEncoding: "Codificación",
        .smsCharacters: "Caracteres",
        .smsUnits: "Unidades",
        .smsSegments: "Segmentos",
        .smsForcing: "Caracteres que obligan a usar UCS-2:",
        .smsNoneForcing: "Todos los caracteres están en el alfabeto GSM-7.",
        .smsTransliterate: "Esta plantilla cambia las letras que GSM-7 no tiene (á, í, ó, ú…) por letras sin tilde antes de enviar (sms_encoding: gsm7-transliterate); los caracteres sin forma simple siguen obligando a usar UCS-2.",
        .lintTitle: "Revisión (lint)",
        .lintClean: "La revisión no encuentra nada que corregir.",
        .lintLine: "Línea {line}",
        .lintOther: "Hallazgos en otros archivos o de toda la plantilla",
        .savedNotice: "Guardado. Este gateway ya usa el texto nuevo; los demás procesos del gateway lo toman en unos segundos. SHA-256 {hash}.",
        .savedReloadRefused: "Guardado, pero al recargar se rechazó la carpeta de plantillas completa; siguen en servicio las plantillas anteriores:",
        .unchangedNotice: "No hay nada que guardar: el archivo ya tiene este texto.",
        .conflictError: "Otra persona guardó este archivo después de que usted lo abrió. Copie sus cambios, recargue la página y hágalos de nuevo",
        .findingOnLine: "Línea {line}: {message}",
        .saveFailed: "No se guardó el archivo: {message}",
        .sourceMissing: "Escriba el texto de la plantilla",
        .historyTitle: "Historial de {file}",
        .historyLink: "Historial de este archivo: cada cambio guardado aquí, con lo que cambió",
        .historyEmpty: "Todavía no se ha guardado ningún cambio de este archivo desde la consola.",
        .historyWhen: "Cuándo (UTC)",
        .historyWho: "Quién",
        .historyChange: "Cambio",
        .historyView: "Ver el cambio",
        .historyEdited: "Editado",
        .historyRestored: "Restauró un texto anterior",
        .historyNoText: "Este cambio se registró sin su texto, así que no se puede mostrar ni restaurar.",
        .changeTitle: "Un cambio en {file}",
        .changeBy: "{who} guardó este cambio el {time} (UTC).",
        .restoreButton: "Restaurar el texto de antes de este cambio",
        .restoreHint: "Restaurar es un cambio nuevo: se revisa, se guarda y se registra como cualquier otro.",
        .restoredNotice: "Se restauró el texto anterior y ya está en servicio. El cambio queda registrado en el registro de contactos.",
        .diffSame: "sin cambios",
        .diffRemoved: "eliminado",
        .diffAdded: "añadido",
    ]

    public static func table(_ language: Language) -> [Phrase: String] { language == .es ? spanish : english }

    /// The phrase in `language` with `{key}` placeholders replaced (values are plain text: pages
    /// escape them when they interpolate the result).
    public static func text(_ phrase: Phrase, _ language: Language, _ values: [String: String] = [:]) -> String {
        var text = table(language)[phrase] ?? english[phrase] ?? phrase.rawValue
        for (key, value) in values { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
        return text
    }
}
