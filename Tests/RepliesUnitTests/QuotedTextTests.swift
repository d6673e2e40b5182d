import Testing
@testable import Replies

/// The bank's own message, quoted below a reply the way mail and phone clients quote it, is not
/// the customer's words (its "Reply STOP" must not opt anyone out); the customer's words all stay.
@Suite struct QuotedTextTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var testDescription: String
        var text: String
        var kept: String
    }

    static let cases: [Case] = [
        Case(testDescription: "Outlook's original message header",
             text: "Ya pagué.\n-----Original Message-----\nResponda BAJA", kept: "Ya pagué."),
        Case(testDescription: "a spaced Spanish header",
             text: "No es mía esa deuda\n\n----- Mensaje original -----\nResponda SALIR para no recibir más SMS.", kept: "No es mía esa deuda\n"),
        Case(testDescription: "Gmail's forwarded-message header",
             text: "see below??\n---------- Forwarded message ---------\nFrom: Bank\nReply STOP to opt out", kept: "see below??"),
        Case(testDescription: "a bare rule of dashes after the customer's words",
             text: "Quisiera cambiar la fecha\nCarmen\n\n---\nRecordatorio: Responda STOP para cancelar.", kept: "Quisiera cambiar la fecha\nCarmen\n"),
        Case(testDescription: "underscores with the From line on the same line",
             text: "call me\n________ De: Banco <avisos@banco.cr>\nResponda BAJA", kept: "call me"),
        Case(testDescription: "an Outlook underscore rule, then De:",
             text: "ok gracias\n________________________________\nDe: Banco\nEnviado: lunes\nResponda BAJA", kept: "ok gracias"),
        Case(testDescription: "\"On ... wrote:\" wrapped over two lines",
             text: "I paid on the 28th\n\nOn Mon, Nov 30, 2026 at 9:12 AM Northgate Bank <notices@northgatebank.com>\nwrote:\n> Reply STOP to opt out.",
             kept: "I paid on the 28th\n"),
        Case(testDescription: "\"El ... escribió:\" on one line",
             text: "no me escriban más\nEl lun, 30 nov 2026 a las 9:12, Banco (<avisos@banco.cr>) escribió:\nResponda BAJA", kept: "no me escriban más"),
        Case(testDescription: "lines quoted with >",
             text: "> Reply STOP to opt out\nwho is this?", kept: "who is this?"),
        Case(testDescription: "a rule with nothing above it is the customer's own",
             text: "---\nSTOP", kept: "---\nSTOP"),
        Case(testDescription: "dashes inside a sentence are words, not a rule",
             text: "no -- de verdad -- ya no me escriban", kept: "no -- de verdad -- ya no me escriban"),
        Case(testDescription: "an answer written below the bank's message quoted with >",
             text: "Buenas tardes,\n\nEl sáb, 28 nov 2026 a las 8:14 a. m., Cobranzas <avisos@banco.co> escribió:\n> Responda BAJA para no recibir más.\n\nEse valor no corresponde, no vuelvan a enviarme estos correos.",
             kept: "Buenas tardes,\n\n\nEse valor no corresponde, no vuelvan a enviarme estos correos."),
        Case(testDescription: "a wrapped header over > lines, answered between them",
             text: "see inline\nOn Mon, Nov 30, 2026 at 9:12 AM Bank <notices@bank.com>\nwrote:\n> Your payment is due.\nI paid it Friday.\n> Reply STOP to opt out.",
             kept: "see inline\nI paid it Friday."),
        Case(testDescription: "\"wrote:\" in the customer's own sentence",
             text: "my lawyer wrote: stop contacting me", kept: "my lawyer wrote: stop contacting me"),
        Case(testDescription: "the bank's text pasted in quotes on a line of its own, with an amount",
             text: "Me llegó esto:\n\"BANCO: su cuota de $450 vence el 10. Para no recibir mas SMS envie STOP al 30303.\"\n¿Es de ustedes?",
             kept: "Me llegó esto:\n¿Es de ustedes?"),
        Case(testDescription: "curly quotes, twelve words and more, final punctuation after the quote",
             text: "Got this:\n“Your account is past due. Pay today at the link in the app. Text STOP to quit”.\nIs this legit?",
             kept: "Got this:\nIs this legit?"),
        Case(testDescription: "the customer's own short request quoted back stays",
             text: "Ya les contesté:\n\"Por favor no me manden más mensajes\"\ny me siguen llegando",
             kept: "Ya les contesté:\n\"Por favor no me manden más mensajes\"\ny me siguen llegando"),
        Case(testDescription: "a quotation inside a line stays",
             text: "me dijeron \"pague 300 el 15 o lo reportamos\" y eso no es lo que acordamos",
             kept: "me dijeron \"pague 300 el 15 o lo reportamos\" y eso no es lo que acordamos"),
        Case(testDescription: "a phone's signature under a bare keyword, then the bank's message quoted",
             text: "BAJA\n\nEnviado desde mi Galaxy\n\n> Para dejar de recibir mensajes responda BAJA.", kept: "BAJA\n\n"),
        Case(testDescription: "Sent from my iPhone and Get Outlook for Android",
             text: "STOP\nSent from my iPhone\nGet Outlook for Android", kept: "STOP"),
        Case(testDescription: "a sentence that opens like a signature but names no device stays",
             text: "Sent from my checking account on Friday, $200", kept: "Sent from my checking account on Friday, $200"),
        Case(testDescription: "a line naming a phone with the customer's words after it stays",
             text: "enviado desde mi celular, ya pagué", kept: "enviado desde mi celular, ya pagué"),
        Case(testDescription: "a model's name and a carrier's",
             text: "no más mensajes\nSent from my Verizon, Samsung Galaxy S23 Ultra 5G smartphone", kept: "no más mensajes"),
    ]

    @Test(arguments: cases)
    func quotedText(_ item: Case) {
        #expect(ReplyText.withoutQuotedText(item.text) == item.kept)
    }
}
