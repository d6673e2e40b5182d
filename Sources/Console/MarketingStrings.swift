import Foundation

/// The words of the sign-in limit, the tone policy page and template approval, in both languages.
/// Kept apart from `Phrase` and `Word` like those two tables; a test checks that both languages
/// have every term. `{name}` placeholders are filled by `Visit.m(_:_:)`.
public enum Term: String, Sendable, CaseIterable {
    // Sign-in limit
    case signInLimited, signInLimitedAll
    // Template approval
    case approvalsTitle
    case approvalsLead
    case approvalsNone
    case approvalOff
    case approvalFile
    case approvalProposedBy
    case approvalProposedAt
    case approvalState
    case approvalOpen
    case approvalWaiting
    case approvalStale
    case approvalInService
    case approvalTag
    case approvalApprovedNotice
    case approvalRejectedNotice
    case approvalAlreadyNotice
    case approvalUnreadable
    case approvalTitle
    case approvalBy
    case approvalStaleBody
    case approvalInServiceBody
    case approvalWaitForCompliance
    case approvalOwnHint
    case approvalApproveHint
    case approvalApproveButton
    case approvalNoteLabel
    case approvalNoteHint
    case approvalRejectButton
    case approvalOwnError
    case approvalStaleError
    case approvalNoteMissing
    case approvalNoteTooLong
    case approvalProposedNotice
    case approvalSeeChange
    case approvalPendingForFile
    case approvalListNotice
    // Tone policy page
    case toneTitle
    case toneLead
    case toneRulesTitle
    case toneColRule
    case toneColTone
    case toneColSentiment
    case toneColScore
    case toneColIntents
    case toneColSegment
    case toneColDays
    case toneColCategory
    case toneAny
    case toneAtLeast
    case toneAtMost
    case toneBetween
    case toneDecided
    case toneDefaultRule
    case toneDefaultWhen
    case toneAskTitle
    case toneAskButton
    case toneSentimentLabel
    case toneSentimentHint
    case toneScoreLabel
    case toneScoreHint
    case toneIntentsLabel
    case toneIntentsHint
    case toneSegmentLabel
    case toneSegmentHint
    case toneDaysLabel
    case toneDaysHint
    case toneCategoryLabel
    case toneCategoryTemplates
    case toneTemplateLabel
    case toneChannelLabel
    case toneChoose
    case toneLocaleLabel
    case toneLocaleHint
    case toneLocaleDefault
    case toneAnswerTitle
    case toneAnswerDecidedBy
    case toneAnswerRule
    case toneAnswerDefault
    case toneAnswerFile
    case toneAnswerLocale
    case toneAnswerFallback
    case toneSentimentTooLong
    case toneScoreInvalid
    case toneIntentsInvalid
    case toneSegmentTooLong
    case toneDaysInvalid
    case toneTemplateMissing
    case toneTemplateUnknown
    case toneCategoryInvalid
    case toneChannelMissing
    case toneLocaleInvalid
    case toneNoChannel
}

public enum Terms {
    public static let english: [Term: String] = [
        .signInLimited: "There have been too many failed sign-ins from your network. Wait {minutes} minutes, then try again with your token.",
        .signInLimitedAll: "That token is not valid, and after too many failed attempts only a valid token is accepted for the next {minutes} minutes. Check that you pasted the whole token. If you keep seeing this, tell the operations team.",
        .toneTitle: "Tone policy",
        .toneLead: "Each message's tone is chosen by these rules, from templates/tones.yml, tried in order: the first rule whose every condition holds decides; when none does, the default tone is used. Below, ask which tone and file a customer would get: the answer comes from the same code the workers run.",
        .toneRulesTitle: "The rules, in the order they are tried",
        .toneColRule: "Rule",
        .toneColTone: "Tone",
        .toneColSentiment: "Sentiment",
        .toneColScore: "Score",
        .toneColIntents: "Latest reply's intents",
        .toneColSegment: "Segment",
        .toneColDays: "Days past due",
        .toneColCategory: "Category",
        .toneAny: "any",
        .toneAtLeast: "{value} or more",
        .toneAtMost: "{value} or less",
        .toneBetween: "{min} to {max}",
        .toneDecided: "Decided",
        .toneDefaultRule: "Default",
        .toneDefaultWhen: "when no rule above holds",
        .toneAskTitle: "Which tone and file would this customer get?",
        .toneAskButton: "Show the tone",
        .toneSentimentLabel: "Sentiment label (optional)",
        .toneSentimentHint: "As the scoring service sends it, or as the customer's latest reply was read. The rules use: {labels}.",
        .toneScoreLabel: "Sentiment score (optional)",
        .toneScoreHint: "A number from -1 (very negative) to 1, like -0.6.",
        .toneIntentsLabel: "Intents of the customer's latest reply (optional)",
        .toneIntentsHint: "Separated by commas, like hardship, promise_to_pay.",
        .toneSegmentLabel: "Segment (optional)",
        .toneSegmentHint: "The job's segment. The rules use: {segments}.",
        .toneDaysLabel: "Days past due (optional)",
        .toneDaysHint: "A whole number; negative before the due date, like -3.",
        .toneCategoryLabel: "Category",
        .toneCategoryTemplates: "The template's own",
        .toneTemplateLabel: "Template",
        .toneChannelLabel: "Channel",
        .toneChoose: "Choose a channel",
        .toneLocaleLabel: "Customer's locale",
        .toneLocaleHint: "The file is chosen in this locale, then its language, then the default.",
        .toneLocaleDefault: "None given (the default, {locale})",
        .toneAnswerTitle: "This customer would get",
        .toneAnswerDecidedBy: "Decided by",
        .toneAnswerRule: "the rule",
        .toneAnswerDefault: "the default tone: no rule holds",
        .toneAnswerFile: "File",
        .toneAnswerLocale: "locale {locale}",
        .toneAnswerFallback: "The template has no {tone} file for this channel, so the {used} file is sent.",
        .toneSentimentTooLong: "Enter a sentiment label of 100 characters or fewer",
        .toneScoreInvalid: "Enter the score as a number from -1 to 1, like -0.6",
        .toneIntentsInvalid: "Enter at most 20 intents, separated by commas",
        .toneSegmentTooLong: "Enter a segment of 100 characters or fewer",
        .toneDaysInvalid: "Enter days past due as a whole number, like 12 or -3",
        .toneTemplateMissing: "Choose a template",
        .toneTemplateUnknown: "There is no template called {template}",
        .toneCategoryInvalid: "Choose collection, transactional or reply",
        .toneChannelMissing: "Choose a channel",
        .toneLocaleInvalid: "Choose a locale, like es-CR",
        .toneNoChannel: "The template {template} has no {channel} message: choose another channel",
        .approvalsTitle: "Template changes waiting for approval",
        .approvalsLead: "With four-eyes approval on, a template change saved in the console goes into service only when a compliance user other than the person who made it approves it. Until then the last approved version is sent.",
        .approvalsNone: "No change is waiting for approval.",
        .approvalOff: "Template changes do not need approval here (template_approval is not required): they go into service when saved.",
        .approvalFile: "File",
        .approvalProposedBy: "Proposed by",
        .approvalProposedAt: "When (UTC)",
        .approvalState: "State",
        .approvalOpen: "Open",
        .approvalWaiting: "Waiting for approval",
        .approvalStale: "File changed since",
        .approvalInService: "Already in service",
        .approvalTag: "Waiting for approval ({count})",
        .approvalApprovedNotice: "The change was approved and is in service.",
        .approvalRejectedNotice: "The change was rejected. The version in service did not change.",
        .approvalAlreadyNotice: "The file already held that text, so there was nothing to approve; the pending change was removed.",
        .approvalUnreadable: "These pending change files could not be read and are not listed: {files}",
        .approvalTitle: "Proposed change to {file}",
        .approvalBy: "Proposed by {who} at {time} UTC",
        .approvalStaleBody: "The file has changed since this change was proposed, so it cannot be approved: approving it would undo the other change. Reject it with a note, and the proposer can make the change again on the current file.",
        .approvalInServiceBody: "The file already holds this text.",
        .approvalWaitForCompliance: "A compliance user must approve this change before it goes into service. Until then the last approved version is sent.",
        .approvalOwnHint: "You proposed this change, so someone else must approve it. You can withdraw it by rejecting it with a note.",
        .approvalApproveHint: "Approving writes the change into service at once, exactly as a save does, and records you as the approver.",
        .approvalApproveButton: "Approve and put into service",
        .approvalNoteLabel: "Why are you rejecting it?",
        .approvalNoteHint: "The proposer sees this note in the contact log. The version in service does not change.",
        .approvalRejectButton: "Reject the change",
        .approvalOwnError: "You cannot approve a change you proposed: another compliance user must approve it",
        .approvalStaleError: "The file has changed since this change was proposed. Reject it, and propose the change again on the current file",
        .approvalNoteMissing: "Enter why you are rejecting the change",
        .approvalNoteTooLong: "Enter a note of 2,000 characters or fewer",
        .approvalProposedNotice: "Your change is waiting for approval by a compliance user. The version in service stays until it is approved.",
        .approvalSeeChange: "See the proposed change",
        .approvalPendingForFile: "Changes to this file are waiting for approval; the text below is the version in service:",
        .approvalListNotice: "Changes saved here wait for a compliance user's approval before they go into service.",
    ]

    public static let spanish: [Term: String] = [
        .signInLimited: "Ha habido demasiados intentos fallidos de entrar desde su red. Espere {minutes} minutos y vuelva a intentarlo con su token.",
        .signInLimitedAll: "Ese token no es válido, y tras demasiados intentos fallidos solo se acepta un token válido durante los próximos {minutes} minutos. Compruebe que pegó el token completo. Si lo sigue viendo, avise al equipo de operaciones.",
        .toneTitle: "Política de tono",
        .toneLead: "El tono de cada mensaje lo eligen estas reglas, de templates/tones.yml, probadas en orden: decide la primera cuyas condiciones se cumplen todas; si ninguna, se usa el tono por defecto. Abajo puede preguntar qué tono y archivo recibiría un cliente: la respuesta sale del mismo código que ejecutan los workers.",
        .toneRulesTitle: "Las reglas, en el orden en que se prueban",
        .toneColRule: "Regla",
        .toneColTone: "Tono",
        .toneColSentiment: "Sentimiento",
        .toneColScore: "Puntuación",
        .toneColIntents: "Intenciones de la última respuesta",
        .toneColSegment: "Segmento",
        .toneColDays: "Días de atraso",
        .toneColCategory: "Categoría",
        .toneAny: "cualquiera",
        .toneAtLeast: "{value} o más",
        .toneAtMost: "{value} o menos",
        .toneBetween: "de {min} a {max}",
        .toneDecided: "Decidió",
        .toneDefaultRule: "Por defecto",
        .toneDefaultWhen: "cuando no se cumple ninguna regla anterior",
        .toneAskTitle: "¿Qué tono y archivo recibiría este cliente?",
        .toneAskButton: "Ver el tono",
        .toneSentimentLabel: "Etiqueta de sentimiento (opcional)",
        .toneSentimentHint: "Como la envía el servicio de puntuación, o como se leyó la última respuesta del cliente. Las reglas usan: {labels}.",
        .toneScoreLabel: "Puntuación de sentimiento (opcional)",
        .toneScoreHint: "Un número de -1 (muy negativo) a 1, como -0.6.",
        .toneIntentsLabel: "Intenciones de la última respuesta del cliente (opcional)",
        .toneIntentsHint: "Separadas por comas, como hardship, promise_to_pay.",
        .toneSegmentLabel: "Segmento (opcional)",
        .toneSegmentHint: "El segmento del trabajo. Las reglas usan: {segments}.",
        .toneDaysLabel: "Días de atraso (opcional)",
        .toneDaysHint: "Un número entero; negativo antes del vencimiento, como -3.",
        .toneCategoryLabel: "Categoría",
        .toneCategoryTemplates: "La de la plantilla",
        .toneTemplateLabel: "Plantilla",
        .toneChannelLabel: "Canal",
        .toneChoose: "Elija un canal",
        .toneLocaleLabel: "Idioma y región del cliente",
        .toneLocaleHint: "El archivo se elige en este idioma y región, luego en su idioma, luego en el predeterminado.",
        .toneLocaleDefault: "Sin indicar (el predeterminado, {locale})",
        .toneAnswerTitle: "Este cliente recibiría",
        .toneAnswerDecidedBy: "Lo decidió",
        .toneAnswerRule: "la regla",
        .toneAnswerDefault: "el tono por defecto: no se cumple ninguna regla",
        .toneAnswerFile: "Archivo",
        .toneAnswerLocale: "idioma {locale}",
        .toneAnswerFallback: "La plantilla no tiene archivo {tone} para este canal, así que se envía el archivo {used}.",
        .toneSentimentTooLong: "Escriba una etiqueta de sentimiento de 100 caracteres o menos",
        .toneScoreInvalid: "Escriba la puntuación como un número de -1 a 1, como -0.6",
        .toneIntentsInvalid: "Escriba como mucho 20 intenciones, separadas por comas",
        .toneSegmentTooLong: "Escriba un segmento de 100 caracteres o menos",
        .toneDaysInvalid: "Escriba los días de atraso como un número entero, como 12 o -3",
        .toneTemplateMissing: "Elija una plantilla",
        .toneTemplateUnknown: "No hay ninguna plantilla llamada {template}",
        .toneCategoryInvalid: "Elija collection, transactional o reply",
        .toneChannelMissing: "Elija un canal",
        .toneLocaleInvalid: "Elija un idioma y región, como es-CR",
        .toneNoChannel: "La plantilla {template} no tiene mensaje de {channel}: elija otro canal",
        .approvalsTitle: "Cambios de plantillas pendientes de aprobación",
        .approvalsLead: "Con la aprobación a cuatro ojos activada, un cambio de plantilla guardado en la consola entra en servicio solo cuando lo aprueba una persona de cumplimiento distinta de quien lo hizo. Mientras tanto se envía la última versión aprobada.",
        .approvalsNone: "No hay cambios pendientes de aprobación.",
        .approvalOff: "Aquí los cambios de plantillas no necesitan aprobación (template_approval no es required): entran en servicio al guardarse.",
        .approvalFile: "Archivo",
        .approvalProposedBy: "Propuesto por",
        .approvalProposedAt: "Cuándo (UTC)",
        .approvalState: "Estado",
        .approvalOpen: "Abrir",
        .approvalWaiting: "Pendiente de aprobación",
        .approvalStale: "El archivo cambió después",
        .approvalInService: "Ya en servicio",
        .approvalTag: "Pendiente de aprobación ({count})",
        .approvalApprovedNotice: "El cambio se aprobó y está en servicio.",
        .approvalRejectedNotice: "El cambio se rechazó. La versión en servicio no cambió.",
        .approvalAlreadyNotice: "El archivo ya tenía ese texto, así que no había nada que aprobar; se quitó el cambio pendiente.",
        .approvalUnreadable: "Estos archivos de cambios pendientes no se pudieron leer y no aparecen: {files}",
        .approvalTitle: "Cambio propuesto a {file}",
        .approvalBy: "Propuesto por {who} el {time} UTC",
        .approvalStaleBody: "El archivo cambió después de proponerse este cambio, así que no se puede aprobar: aprobarlo desharía el otro cambio. Rechácelo con una nota y quien lo propuso podrá hacerlo de nuevo sobre el archivo actual.",
        .approvalInServiceBody: "El archivo ya tiene este texto.",
        .approvalWaitForCompliance: "Una persona de cumplimiento debe aprobar este cambio antes de que entre en servicio. Mientras tanto se envía la última versión aprobada.",
        .approvalOwnHint: "Usted propuso este cambio, así que debe aprobarlo otra persona. Puede retirarlo rechazándolo con una nota.",
        .approvalApproveHint: "Al aprobarlo, el cambio entra en servicio de inmediato, igual que al guardar, y queda registrado quién lo aprobó.",
        .approvalApproveButton: "Aprobar y poner en servicio",
        .approvalNoteLabel: "¿Por qué lo rechaza?",
        .approvalNoteHint: "Quien lo propuso ve esta nota en el registro de contactos. La versión en servicio no cambia.",
        .approvalRejectButton: "Rechazar el cambio",
        .approvalOwnError: "No puede aprobar un cambio que usted propuso: debe aprobarlo otra persona de cumplimiento",
        .approvalStaleError: "El archivo cambió después de proponerse este cambio. Rechácelo y proponga el cambio de nuevo sobre el archivo actual",
        .approvalNoteMissing: "Escriba por qué rechaza el cambio",
        .approvalNoteTooLong: "Escriba una nota de 2000 caracteres o menos",
        .approvalProposedNotice: "Su cambio espera la aprobación de una persona de cumplimiento. La versión en servicio se mantiene hasta que se apruebe.",
        .approvalSeeChange: "Ver el cambio propuesto",
        .approvalPendingForFile: "Hay cambios a este archivo pendientes de aprobación; el texto de abajo es la versión en servicio:",
        .approvalListNotice: "Los cambios que guarde aquí esperan la aprobación de una persona de cumplimiento antes de entrar en servicio.",
    ]

    public static func text(_ term: Term, _ language: Language, _ values: [String: String] = [:]) -> String {
        var text = (language == .es ? spanish : english)[term] ?? english[term] ?? term.rawValue
        for (key, value) in values { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
        return text
    }
}

extension Visit {
    /// A term of the sign-in limit, tone policy and approval pages in the visit's language.
    func m(_ term: Term, _ values: [String: String] = [:]) -> String { Terms.text(term, language, values) }
}
