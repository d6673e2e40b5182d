import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Providers

/// Bodies as SendGrid's Inbound Parse posts them (CRLF line endings, boundary in the Content-Type).
enum InboundFixtures {
    static let boundary = "001a11447dc881e40b0537fe6d58"
    static let contentType = "multipart/form-data; boundary=001a11447dc881e40b0537fe6d58"

    /// A PNG's first bytes, NUL and CR LF, a line that starts like the boundary but is not one, and a
    /// trailing CRLF that belongs to the file.
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52]
        + Array("\r\n--001a11447dc881e40b0537fe6d58X not a boundary\r\n".utf8) + [0xFF, 0x00, 0xD8, 0x0D, 0x0A]
    static let pdf: [UInt8] = Array("%PDF-1.4\n%\u{E2}\u{E3}\n1 0 obj\n<<>>\nendobj\n%%EOF\n".utf8)

    /// SendGrid's documented default payload ("Setting up the Inbound Parse webhook", example
    /// default payload), byte for byte with CRLF line endings; `text` and `charsets` replaceable.
    static func documented(text: [UInt8] = Array("Here's an email with multiple attachments".utf8),
                           charsets: String = #"{"to":"UTF-8","from":"UTF-8","subject":"UTF-8","text":"UTF-8","html":"UTF-8"}"#) -> [UInt8] {
        func lines(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }
        var body = lines("""
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="headers"

        Received: by mx0047p1mdw1.sendgrid.net with SMTP id n02SRiHsLZ Tue, 27 Jul 2021 15:53:29 +0000 (UTC)
        Received: from mail-sor-f41.google.com (mail-sor-f41.google.com [209.85.223.169])
                by mx0047p1mdw1.sendgrid.net (Postfix) with ESMTPS id 09F3B1801C8
                for <example@example.com>; Tue, 27 Jul 2021 15:53:29 +0000 (UTC)
        DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sendgrid.com; s=ga1;
                h=mime-version:from:date:message-id:subject:to:content-type;
                bh=NpmKhQmfVa+5lFZlsFg3EjLQGAGOmz8+fGEXjSs1+2g=;
                b=OKl5gvNGYmz/YzjhGLxPwAS2B0PsQm2s/ywxSXAbmQhwOC2gaLFB8NJjfNmI7asTghsL...
        MIME-Version: 1.0
        From: Sender Name <sender@example.com>
        Date: Tue, 27 Jul 2021 15:53:29 +0000
        Message-ID: <CABQbZKGSEWPBtYVn3W_JUb70n-Oe=fykq@mail.gmail.com>
        Subject: Different File Types
        To: example@example.com
        Content-Type: multipart/mixed; boundary="000000000000abcdef05c8c1c2d3"
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="dkim"

        {@sendgrid.com : pass}
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="to"

        example@example.com
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="from"

        Sender Name <sender@example.com>
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="subject"

        Different File Types
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="text"


        """)
        body += text
        body += lines("""

        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="html"

        <div dir="ltr">Here&#39;s an email with <b>multiple attachments</b><br><img src="cid:ii_1562e2169c132d83" alt="image.png"><br></div>
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="sender_ip"

        209.85.223.169
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="envelope"

        {"to":["example@example.com"],"from":"sender@example.com"}
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="attachments"

        2
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="charsets"

        \(charsets)
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="SPF"

        pass
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="spam_score"

        0.011
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="spam_report"

        Spam detection software, running on the system "mx0047p1mdw1.sendgrid.net",
        has NOT identified this incoming email as spam. The original
        message has been attached to this so you can view it or label
        similar future email. If you have any questions, see
        the administrator of that system for details.

        Content preview: Here's an email with multiple attachments [image.png]

        Content analysis details: (0.0 points, 5.0 required)

        pts rule name              description
        ---- ---------------------- --------------------------------------------------
        0.0 HTML_MESSAGE           BODY: HTML included in message
        0.0 T_MIME_NO_TEXT         No text body parts
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="content-ids"

        {"ii_1562e2169c132d83":"attachment1"}
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="attachment-info"

        {"attachment1":{"filename":"image.png","name":"image.png","type":"image/png","content-id":"ii_1562e2169c132d83"},"attachment2":{"filename":"document.pdf","name":"document.pdf","type":"application/pdf"}}
        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="attachment1"; filename="image.png"
        Content-Type: image/png


        """)
        body += png
        body += lines("""

        --001a11447dc881e40b0537fe6d58
        Content-Disposition: form-data; name="attachment2"; filename="document.pdf"
        Content-Type: application/pdf


        """)
        body += pdf
        body += lines("\n--001a11447dc881e40b0537fe6d58--\n")
        return body
    }

    /// A form body from fields (name, bytes), CRLF line endings.
    static func form(_ fields: [(String, [UInt8])], boundary: String = "xYzZY") -> [UInt8] {
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n".utf8) + value + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }

    /// A default-mode reply: from, to, subject, text (UTF-8 unless `charsets` says otherwise).
    static func reply(from: String = "Ana Mora <Ana.Mora@Example.com>", subject: String, text: String?, html: String? = nil,
                      headers: String? = nil, charsets: String = #"{"to":"UTF-8","from":"UTF-8","subject":"UTF-8","text":"UTF-8","html":"UTF-8"}"#) -> [UInt8] {
        var fields: [(String, [UInt8])] = []
        if let headers { fields.append(("headers", Array(headers.utf8))) }
        fields += [("to", Array("cobros@reply.banco.example".utf8)), ("from", Array(from.utf8)), ("subject", Array(subject.utf8))]
        if let text { fields.append(("text", Array(text.utf8))) }
        if let html { fields.append(("html", Array(html.utf8))) }
        fields += [("envelope", Array(#"{"to":["cobros@reply.banco.example"],"from":"ana.mora@example.com"}"#.utf8)),
                   ("charsets", Array(charsets.utf8)), ("SPF", Array("pass".utf8))]
        return form(fields)
    }

    static func latin1(_ text: String) -> [UInt8] { text.unicodeScalars.map { UInt8($0.value) } }
}

@Suite struct SendGridInboundTests {
    let inbound = SendGridInbound(provider: "sendgrid-inbound")
    let at = Date(timeIntervalSince1970: 1_700_000_000)

    func parse(_ body: [UInt8], contentType: String? = "multipart/form-data; boundary=xYzZY", with parser: SendGridInbound? = nil) throws -> InboundMessage {
        try (parser ?? inbound).parse(body: body, contentType: contentType, at: at).get()
    }

    func rejection(_ body: [UInt8], contentType: String? = "multipart/form-data; boundary=xYzZY", with parser: SendGridInbound? = nil) -> String {
        switch (parser ?? inbound).parse(body: body, contentType: contentType, at: at) {
        case .success(let message): return "accepted: \(message)"
        case .failure(let rejection): return rejection.message
        }
    }

    @Test func readsTheDocumentedDefaultPayload() throws {
        let message = try parse(InboundFixtures.documented(), contentType: InboundFixtures.contentType)
        #expect(message.provider == "sendgrid-inbound")
        #expect(message.from == "sender@example.com")
        #expect(message.to == "example@example.com")
        #expect(message.messageID == "CABQbZKGSEWPBtYVn3W_JUb70n-Oe=fykq@mail.gmail.com")
        // The subject is not "Re: ..." so it is the sender's words and comes first.
        #expect(message.body == "Different File Types\nHere's an email with multiple attachments")
        #expect(message.at == at)
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(message.raw.utf8)) as? [String: Any])
        #expect(raw["SPF"] as? String == "pass" && raw["spam_score"] as? String == "0.011" && raw["attachments"] as? String == "2")
        let image = try #require(raw["attachment1"] as? [String: Any])
        #expect(image["filename"] as? String == "image.png" && image["type"] as? String == "image/png" && image["size"] as? Int == InboundFixtures.png.count)
        #expect((raw["attachment2"] as? [String: Any])?["size"] as? Int == InboundFixtures.pdf.count)
        #expect(!message.raw.contains("PNG") && !message.raw.contains("%PDF"), "attachments' bytes stay out of raw")
    }

    @Test func attachmentsComeThroughByteForByte() throws {
        let parts = try MultipartFormData.parse(InboundFixtures.documented(), contentType: InboundFixtures.contentType)
        #expect(parts.map(\.name) == ["headers", "dkim", "to", "from", "subject", "text", "html", "sender_ip", "envelope", "attachments", "charsets",
                                      "SPF", "spam_score", "spam_report", "content-ids", "attachment-info", "attachment1", "attachment2"])
        let image = try #require(parts.first { $0.name == "attachment1" })
        #expect(image.body == InboundFixtures.png, "the line starting like the boundary and the trailing CRLF are the file's")
        #expect(image.filename == "image.png" && image.contentType == "image/png")
        #expect(parts.first { $0.name == "attachment2" }?.body == InboundFixtures.pdf)
        #expect(parts.first { $0.name == "from" }?.body == Array("Sender Name <sender@example.com>".utf8))
        #expect(parts.first { $0.name == "headers" }?.filename == nil)
    }

    @Test func decodesALatin1TextAsCharsetsSays() throws {
        let text = InboundFixtures.latin1("Buenos días, pagaré mañana la cuota de enero. ¡Gracias!")
        #expect(String(validating: text, as: UTF8.self) == nil, "the bytes are Latin-1, not UTF-8")
        let body = InboundFixtures.documented(text: text, charsets: #"{"to":"UTF-8","from":"UTF-8","subject":"UTF-8","text":"iso-8859-1","html":"UTF-8"}"#)
        let message = try parse(body, contentType: InboundFixtures.contentType)
        #expect(message.body == "Different File Types\nBuenos días, pagaré mañana la cuota de enero. ¡Gracias!")
        // Windows-1252 adds quotes and the euro sign in 0x80...0x9F.
        let cp1252 = InboundFixtures.documented(text: [0x93, 0x50, 0x61, 0x67, 0x6F, 0x94, 0x20, 0x80, 0x35, 0x30],
                                                 charsets: #"{"text":"windows-1252","subject":"UTF-8"}"#)
        #expect(try parse(cp1252, contentType: InboundFixtures.contentType).body == "Different File Types\n“Pago” €50")
        let ascii = InboundFixtures.documented(text: Array("Pago hecho".utf8), charsets: #"{"text":"US-ASCII"}"#)
        #expect(try parse(ascii, contentType: InboundFixtures.contentType).body.hasSuffix("\nPago hecho"))
    }

    @Test func refusesACharsetItCannotDecode() {
        let body = InboundFixtures.documented(text: [0xF0, 0xD2], charsets: #"{"text":"koi8-r","subject":"UTF-8"}"#)
        let message = rejection(body, contentType: InboundFixtures.contentType)
        #expect(message.contains("koi8-r") && message.contains("text") && message.contains("ISO-8859-1"), "\(message)")
        #expect(rejection(InboundFixtures.reply(subject: "x", text: "y", charsets: "not json")).contains("charsets field is not a JSON object"))
    }

    @Test func spanishReplyWithAccentsAndQuotedHistoryInSpanish() throws {
        let text = """
        Buenos días, ya realicé el pago de la cuota por transferencia.
        Adjunto el comprobante.

        El lun, 3 jun 2024 a las 10:00, Banco Ejemplo (<cobros@banco.example>)
        escribió:
        > Estimada Ana: su cuota de $125,50 vence hoy.
        > Responda BAJA para no recibir más avisos.
        """
        let message = try parse(InboundFixtures.reply(subject: "RE: Recordatorio de pago", text: text))
        #expect(message.from == "ana.mora@example.com" && message.to == "cobros@reply.banco.example")
        #expect(message.body == "Buenos días, ya realicé el pago de la cuota por transferencia.\nAdjunto el comprobante.")
        #expect(message.intent == .message, "the BAJA in our quoted message is not the customer's")

        let outlook = """
        Pagaré el viernes.

        ________________________________
        De: Banco Ejemplo <cobros@banco.example>
        Enviado: lunes, 3 de junio de 2024 10:00
        Para: Ana Mora
        Asunto: Recordatorio de pago

        Responda BAJA para no recibir más avisos.
        """
        #expect(try parse(InboundFixtures.reply(subject: "RE: Recordatorio de pago", text: outlook)).body == "Pagaré el viernes.")
        let mobile = "Ok, mañana pago\n\nEnviado desde mi iPhone\n\nEl 3 jun 2024, a las 10:00, Banco <cobros@banco.example> escribió:\n\n> Responda STOP"
        #expect(try parse(InboundFixtures.reply(subject: "Re: Aviso", text: mobile)).body == "Ok, mañana pago")
        // A line that only opens like a client's signature is the customer's: a payment told of is kept.
        let told = "Enviado desde mi cuenta de ahorros el viernes, 200 mil\n\n> Responda STOP"
        #expect(try parse(InboundFixtures.reply(subject: "Re: Aviso", text: told)).body == "Enviado desde mi cuenta de ahorros el viernes, 200 mil")
        #expect(try parse(InboundFixtures.reply(subject: "Re: Aviso", text: "\n\n  Hola\n\n\n\nPagué  \n\n")).body == "Hola\n\nPagué")
    }

    @Test func quotedHistoryAndSignatureInEnglish() throws {
        let gmail = """
        I paid yesterday, please check.

        -- 
        Ana Mora
        Reply STOP to opt out

        On Mon, Jun 3, 2024 at 10:00 AM Bank Example <collections@bank.example>
        wrote:

        > Your payment of $125.50 is due today. Reply STOP to opt out.
        """
        let message = try parse(InboundFixtures.reply(subject: "Re: Payment reminder", text: gmail))
        #expect(message.body == "I paid yesterday, please check.")
        #expect(message.intent == .message)

        let original = "Will pay on Friday\r\n\r\n-----Original Message-----\r\nFrom: Bank Example\r\nSent: Monday, June 3, 2024 10:00 AM\r\nReply STOP to opt out"
        #expect(try parse(InboundFixtures.reply(subject: "RE: Payment reminder", text: original)).body == "Will pay on Friday")
        let outlook = "Paid.\n\nFrom: Bank Example <collections@bank.example>\nSent: Monday, June 3, 2024 10:00 AM\nTo: Ana\nSubject: Payment reminder\n\nReply STOP"
        #expect(try parse(InboundFixtures.reply(subject: "RE: Payment reminder", text: outlook)).body == "Paid.")
        // Inline answers between quoted lines are kept; the quoted lines are not.
        let inline = "> Can you pay today?\nYes, at noon.\n> Reply STOP to opt out\nThanks"
        #expect(try parse(InboundFixtures.reply(subject: "Re: Payment reminder", text: inline)).body == "Yes, at noon.\nThanks")
        // Answered below the header and its ">" lines: the answer stays; under an unmarked quote it would not.
        let below = "Buenas tardes,\n\nEl sáb, 28 nov 2026 a las 8:14, Cobranzas <avisos@banco.example> escribió:\n> Responda BAJA para no recibir más.\n\nEse valor no corresponde, no vuelvan a enviarme estos correos.\n\nAtt,\nJorge"
        #expect(try parse(InboundFixtures.reply(subject: "Re: Aviso", text: below)).body == "Buenas tardes,\n\nEse valor no corresponde, no vuelvan a enviarme estos correos.\n\nAtt,\nJorge")
        let unmarked = "Ok\n\nOn Mon, Jun 3, 2024 at 10:00 AM Bank wrote:\nReply STOP to opt out"
        #expect(try parse(InboundFixtures.reply(subject: "Re: Aviso", text: unmarked)).body == "Ok")
    }

    @Test func aReplyThatIsOnlySTOPInTheSubject() throws {
        let message = try parse(InboundFixtures.reply(subject: "STOP", text: ""))
        #expect(message.body == "STOP")
        #expect(message.intent == .stop)
        // A subject written over our quoted message still counts, and our quoted STOP hint does not.
        let overQuote = try parse(InboundFixtures.reply(subject: "Baja", text: "\n\nOn Mon, Jun 3, 2024 at 10:00 AM Bank wrote:\n> Reply STOP to opt out"))
        #expect(overQuote.body == "Baja" && overQuote.intent == .stop)
        // "Re: <our subject>" is not the customer's words.
        let plain = try parse(InboundFixtures.reply(subject: "Re: Recordatorio de pago", text: "Gracias, ya pagué"))
        #expect(plain.body == "Gracias, ya pagué")
        #expect(SendGridInbound.subjectCounts("Re: RE: [EXTERNAL] Fwd: Recordatorio", ourSubjects: []) == false)
        #expect(SendGridInbound.subjectCounts("RV: Recordatorio", ourSubjects: []) == false)
        // With our subjects known, a changed "Re:" subject counts and ours does not.
        let knowing = SendGridInbound(provider: "sg", ourSubjects: ["Recordatorio de pago"])
        #expect(try parse(InboundFixtures.reply(subject: "Re: STOP", text: "No more please"), with: knowing).body == "STOP\nNo more please")
        #expect(try parse(InboundFixtures.reply(subject: "Re: recordatorio  de PAGO", text: "ok"), with: knowing).body == "ok")
    }

    @Test func htmlOnlyRepliesAreReadAsText() throws {
        let html = """
        <html><head><style>p{color:red}</style><title>x</title></head><body>
        <div dir="ltr">Pagar&eacute; ma&ntilde;ana &amp; les aviso.<br>Saludos&nbsp;&#8212; Ana</div>
        <div class="gmail_quote"><div class="gmail_attr">On Mon, Jun 3, 2024 at 10:00 AM Bank &lt;b@bank.example&gt; wrote:<br></div>
        <blockquote class="gmail_quote">Reply <b>STOP</b> to opt out<blockquote>older</blockquote> still quoted</blockquote></div>
        <!-- a comment with <b>tags</b> -->
        </body></html>
        """
        let message = try parse(InboundFixtures.reply(subject: "Re: Aviso", text: nil, html: html))
        #expect(message.body == "Pagaré mañana & les aviso.\nSaludos — Ana")
        #expect(message.intent == .message)
        #expect(MailText.htmlToText("a<b>b</b>c &#x27;x&#39; &bogus; &lt;3 <unclosed") == "abc 'x' &bogus; <3")
    }

    @Test func messageIDComesFromHeadersOrAHashOfTheMessage() throws {
        let headers = "Received: by mx.sendgrid.net\nMessage-Id:\n <reply-1@mail.example>\nSubject: Re: x"
        #expect(try parse(InboundFixtures.reply(subject: "Re: x", text: "hola", headers: headers)).messageID == "reply-1@mail.example")
        let first = try parse(InboundFixtures.reply(subject: "Re: x", text: "hola"))
        let again = try parse(InboundFixtures.reply(subject: "Re: x", text: "hola"))
        let other = try parse(InboundFixtures.reply(subject: "Re: x", text: "hola!"))
        #expect(first.messageID == again.messageID, "a repeated delivery is recognized")
        #expect(first.messageID != other.messageID)
        #expect(first.messageID.count == 64 && first.messageID.allSatisfy(\.isHexDigit))
    }

    @Test func senderFallsBackToTheEnvelope() throws {
        let message = try parse(InboundFixtures.reply(from: "undisclosed-recipients:;", subject: "Re: x", text: "ok"))
        #expect(message.from == "ana.mora@example.com")
        #expect(MailText.firstAddress(#""Mora, Ana" <Ana@Example.COM>, other@x.example"#) == "ana@example.com")
        #expect(MailText.firstAddress("ana@example.com (Ana Mora)") == "ana@example.com")
        #expect(MailText.firstAddress("=?UTF-8?Q?Jos=C3=A9?= <jose@x.example>".description) == "jose@x.example")
        #expect(MailText.firstAddress("Ana <broken") == nil)
        #expect(MailText.firstAddress("Cobranza: Ana@X.example, bob@y.example;") == "ana@x.example")
        #expect(MailText.firstAddress("mailto:Ana@X.example") == "ana@x.example")
        var fields = [("text", Array("ok".utf8)), ("subject", Array("x".utf8)), ("envelope", Array(#"{"to":["a@b.example"]}"#.utf8))]
        #expect(rejection(InboundFixtures.form(fields)).contains("the sender is unknown"))
        fields.append(("from", Array("ana@example.com".utf8)))
        fields.append(("from", Array("eve@example.com".utf8)))
        #expect(rejection(InboundFixtures.form(fields)).contains("from appears twice"))
    }

    // MARK: Raw mode

    static let rawEmail = """
    Received: by mx0032p1mdw1.sendgrid.net with SMTP id rOkt2xLLKV Tue, 19 Jul 2016 15:06:29 +0000 (UTC)
    MIME-Version: 1.0
    From: =?ISO-8859-1?Q?Jos=E9_P=E9rez?= <Jose.Perez@Example.COM>
    Date: Tue, 19 Jul 2016 09:06:21 -0600
    Message-ID: <CAN_P_JNa25--hzm5=-ES9cnxgWa+h+E49OOAS7sPpV0gsoXCOw@mail.gmail.com>
    Subject: =?UTF-8?Q?Re:_Recordatorio_de_pago?=
    To: cobros@reply.banco.example
    Content-Type: multipart/mixed; boundary=001a11447dc881e40f0537fe6d5a

    --001a11447dc881e40f0537fe6d5a
    Content-Type: multipart/alternative; boundary="001a11447dc881e40b0537fe6d58"

    --001a11447dc881e40b0537fe6d58
    Content-Type: text/plain; charset=UTF-8
    Content-Transfer-Encoding: quoted-printable

    Hola, pagar=C3=A9 la cuota el viernes sin falta, por favor no me env=C3=ADen=
     m=C3=A1s recordatorios hoy.

    El lun, 3 jun 2024 a las 10:00, Banco <cobros@banco.example> escribi=C3=B3:
    > Responda BAJA para no recibir m=C3=A1s avisos.

    --001a11447dc881e40b0537fe6d58
    Content-Type: text/html; charset=UTF-8
    Content-Transfer-Encoding: quoted-printable

    <div dir=3D"ltr">Hola, pagar=C3=A9 la cuota el viernes</div>

    --001a11447dc881e40b0537fe6d58--

    --001a11447dc881e40f0537fe6d5a
    Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;
        name="DockMcWordface.docx"
    Content-Disposition: attachment; filename="DockMcWordface.docx"
    Content-Transfer-Encoding: base64

    UEsDBBQACAgIAHc+80gAAAAAAAAAAAAAAAASAAAAd29yZC9udW1iZXJpbmcu
    eG1spZJBboMwEEVP0Dsg7xNIF1WFQrNo1G66a3uAiTFgxfZYYwPN7euEAC2V

    --001a11447dc881e40f0537fe6d5a--

    """

    func rawForm(_ email: String, crlf: Bool = false) -> [UInt8] {
        let mail = crlf ? email.replacingOccurrences(of: "\n", with: "\r\n") : email
        return InboundFixtures.form([
            ("dkim", Array("{@sendgrid.com : pass}".utf8)), ("email", Array(mail.utf8)), ("to", Array("cobros@reply.banco.example".utf8)),
            ("from", Array("Jose Perez <jose.perez@example.com>".utf8)), ("sender_ip", Array("209.85.214.45".utf8)),
            ("envelope", Array(#"{"to":["cobros@reply.banco.example"],"from":"jose.perez@example.com"}"#.utf8)),
            ("subject", Array("Re: Recordatorio de pago".utf8)), ("spam_score", Array("0.353".utf8)),
            ("charsets", Array(#"{"to":"UTF-8","subject":"UTF-8","from":"UTF-8"}"#.utf8)), ("SPF", Array("pass".utf8)),
        ])
    }

    @Test func rawModeReadsTheMIMEMessage() throws {
        for crlf in [false, true] {
            let message = try parse(rawForm(Self.rawEmail, crlf: crlf))
            #expect(message.from == "jose.perez@example.com")
            #expect(message.to == "cobros@reply.banco.example")
            #expect(message.messageID == "CAN_P_JNa25--hzm5=-ES9cnxgWa+h+E49OOAS7sPpV0gsoXCOw@mail.gmail.com")
            #expect(message.body == "Hola, pagaré la cuota el viernes sin falta, por favor no me envíen más recordatorios hoy.", "crlf \(crlf)")
            let raw = try #require(try JSONSerialization.jsonObject(with: Data(message.raw.utf8)) as? [String: Any])
            let email = try #require(raw["email"] as? [String: Any])
            let parts = try #require(email["parts"] as? [[String: Any]])
            #expect(parts.map { $0["type"] as? String } == ["text/plain", "text/html", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"])
            #expect(parts[2]["filename"] as? String == "DockMcWordface.docx" && parts[2]["text"] == nil)
            #expect(!message.raw.contains("UEsDBBQACAgIAHc"), "the attachment's bytes stay out of raw")
            #expect((email["headers"] as? String)?.contains("Message-ID: <CAN_P_JNa25") == true)
        }
    }

    /// Raw mode as SendGrid posts an Outlook message (the shape of a captured delivery: CRLF, the
    /// `email` field first, a folded ISO-8859-1 subject in two encoded words, a folded charset
    /// parameter, a blank text/plain part beside the HTML the customer wrote in, Outlook's
    /// "De:/Enviado:" block under the reply).
    @Test func rawModeOutlookMessageWithABlankPlainPart() throws {
        let email = """
        Received: from mail.example.net (mxd [203.0.113.7]) by mx.sendgrid.net with ESMTP id JzyvEQCS for <cobros@reply.banco.example>; Fri, 15 Mar 2024 19:05:13.908 +0000 (UTC)
        From: "Mora, Ana" <Ana.Mora@Example.cl>
        To: <cobros@reply.banco.example>
        Subject: =?iso-8859-1?Q?No_quiero_recibir_m=E1s_correos=2C_den_de_?=
        	=?iso-8859-1?Q?baja_mi_direcci=F3n?=
        Date: Fri, 15 Mar 2024 16:05:09 -0300
        Message-ID: <00a901da770b$b425e960$1c71bc20$@example.cl>
        MIME-Version: 1.0
        Content-Type: multipart/alternative;
        	boundary="----=_NextPart_000_00AA_01DA76F2.8ED8FF80"
        X-Mailer: Microsoft Outlook 16.0

        This is a multipart message in MIME format.

        ------=_NextPart_000_00AA_01DA76F2.8ED8FF80
        Content-Type: text/plain;
        	charset="us-ascii"
        Content-Transfer-Encoding: 7bit

         


        ------=_NextPart_000_00AA_01DA76F2.8ED8FF80
        Content-Type: text/html;
        	charset="iso-8859-1"
        Content-Transfer-Encoding: quoted-printable

        <html xmlns:o=3D"urn:schemas-microsoft-com:office:office"><head><meta =
        http-equiv=3DContent-Type content=3D"text/html; charset=3Diso-8859-1"><style><!--
        p.MsoNormal {margin:0cm;}
        --></style><!--[if gte mso 9]><xml>
        <o:shapedefaults v:ext=3D"edit" spidmax=3D"1026" />
        </xml><![endif]--></head><body lang=3DES-CL><div class=3DWordSection1><p =
        class=3DMsoNormal>Por favor no me escriban m=E1s.<o:p></o:p></p><p class=3DMsoNormal><o:p>&nbsp;</o:p></p>
        <div style=3D'border:none;border-top:solid #E1E1E1 1.0pt'><p class=3DMsoNormal><b>De:</b> Banco Ejemplo &lt;cobros@banco.example&gt;<br><b>Enviado:</b> lunes, 3 de junio de 2024 10:00<br><b>Asunto:</b> Recordatorio</p></div><p>Responda STOP para no recibir m=E1s</p></div></body></html>
        ------=_NextPart_000_00AA_01DA76F2.8ED8FF80--


        """.replacingOccurrences(of: "\n", with: "\r\n")
        let body = InboundFixtures.form([
            ("email", Array(email.utf8)), ("charsets", Array(#"{"to":"UTF-8","from":"UTF-8","subject":"UTF-8"}"#.utf8)),
            ("subject", Array("No quiero recibir más correos, den de baja mi dirección".utf8)),
            ("envelope", Array(#"{"to":["cobros@reply.banco.example"],"from":"ana.mora@example.cl"}"#.utf8)), ("spam_score", Array("2.3".utf8)),
            ("dkim", Array("{@example.cl : pass}".utf8)), ("sender_ip", Array("203.0.113.7".utf8)), ("SPF", Array("pass".utf8)),
            ("to", Array("<cobros@reply.banco.example>".utf8)), ("from", Array(#""Mora, Ana" <ana.mora@example.cl>"#.utf8)),
        ])
        let message = try parse(body)
        #expect(message.from == "ana.mora@example.cl" && message.to == "cobros@reply.banco.example")
        #expect(message.messageID == "00a901da770b$b425e960$1c71bc20$@example.cl")
        #expect(message.body == "No quiero recibir más correos, den de baja mi dirección\nPor favor no me escriban más.")
        #expect(message.intent == .stop)
        #expect(message.channel == .email)
    }

    @Test func rawModeHTMLOnlyAndBase64Latin1() throws {
        let html = Data("<p>Ya pagu&eacute;, gracias</p><blockquote>Responda STOP</blockquote>".utf8).base64EncodedString()
        let htmlOnly = "From: ana@example.com\r\nSubject: Re: Aviso\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\(html)\r\n"
        let message = try parse(rawForm(htmlOnly))
        #expect(message.body == "Ya pagué, gracias" && message.from == "ana@example.com")
        let latin = Data(InboundFixtures.latin1("Quiero la baja, señores")).base64EncodedString()
        let plain = "From: ana@example.com\nSubject: =?iso-8859-1?B?\(Data(InboundFixtures.latin1("Baja ñ")).base64EncodedString())?=\nContent-Type: text/plain; charset=\"ISO-8859-1\"\nContent-Transfer-Encoding: base64\n\n\(latin)\n"
        let latinMessage = try parse(rawForm(plain))
        #expect(latinMessage.body == "Baja ñ\nQuiero la baja, señores")
        #expect(latinMessage.intent == .stop)
        // No Message-ID in raw mode: the hash.
        #expect(latinMessage.messageID.count == 64)
        // An unreadable From header in the e-mail: the form's from field, then the envelope.
        let noFrom = "From: undisclosed-recipients:;\nSubject: Re: x\n\nok\n"
        #expect(try parse(rawForm(noFrom)).from == "jose.perez@example.com")
    }

    @Test func rawModeErrorsSayWhatIsWrong() {
        let badEncoding = "From: a@b.example\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644"
        #expect(rejection(rawForm(badEncoding)).contains("x-uuencode"))
        let badCharset = "From: a@b.example\nContent-Type: text/plain; charset=big5\n\nxx"
        #expect(rejection(rawForm(badCharset)).contains("big5"))
        let truncated = "From: a@b.example\nContent-Type: multipart/alternative; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nhola"
        #expect(rejection(rawForm(truncated)).contains("closing line --zz--"))
        let noBoundary = "From: a@b.example\nContent-Type: multipart/mixed\n\n--zz--"
        #expect(rejection(rawForm(noBoundary)).contains("no boundary"))
        var inner = "--b20\nContent-Type: text/plain\n\nhola\n--b20--\n"
        for level in (0..<20).reversed() { inner = "--b\(level)\nContent-Type: multipart/mixed; boundary=b\(level + 1)\n\n" + inner + "\n--b\(level)--\n" }
        let nested = "From: a@b.example\nContent-Type: multipart/mixed; boundary=b0\n\n" + inner
        #expect(rejection(rawForm(nested)).contains("nested more than 8 deep"))
    }

    @Test func transferEncodingsAndEncodedWords() {
        #expect(MailText.decodeQuotedPrintable(Array("caf=C3=A9 =\r\nno=\nche =3D ok=ZZ=".utf8)) == Array("café noche = ok=ZZ".utf8))
        #expect(MailText.decodeBase64(Array("aG9s\r\nYQ".utf8)) == Array("hola".utf8))
        #expect(MailText.decodeBase64(Array("a*b".utf8)) == nil)
        #expect(MailText.decodeEncodedWords("=?UTF-8?Q?Pago_recibido?= =?UTF-8?B?IMOp?= y listo") == "Pago recibido é y listo")
        #expect(MailText.decodeEncodedWords("=?koi8-r?Q?x?= stays") == "=?koi8-r?Q?x?= stays")
        #expect(MailText.decodeEncodedWords("=?UTF-8?Q?unterminated") == "=?UTF-8?Q?unterminated")
    }
}

/// The multipart/form-data parser on its own, and hostile bodies.
@Suite struct MultipartFormDataTests {
    @Test func boundaryFromTheContentType() throws {
        #expect(try MultipartFormData.boundary(contentType: "multipart/form-data; boundary=xYzZY") == "xYzZY")
        #expect(try MultipartFormData.boundary(contentType: #"Multipart/Form-Data;charset=utf-8; BOUNDARY="a b:(c)""#) == "a b:(c)")
        func code(_ contentType: String?) -> MultipartError.Code? {
            do { _ = try MultipartFormData.boundary(contentType: contentType); return nil } catch { return error.code }
        }
        #expect(code(nil) == .notMultipart)
        #expect(code("application/x-www-form-urlencoded") == .notMultipart)
        #expect(code("multipart/form-data") == .noBoundary)
        #expect(code("multipart/form-data; boundary=") == .badBoundary)
        #expect(code("multipart/form-data; boundary=\(String(repeating: "a", count: 71))") == .badBoundary)
        #expect(code("multipart/form-data; boundary=\"ends in space \"") == .badBoundary)
        #expect(code("multipart/form-data; boundary=a<b") == .badBoundary)
        #expect(code("multipart/form-data; boundary=\"unclosed") == .badParameter)
        #expect(code("multipart/form-data; boundary=a; boundary=b") == .badParameter)
    }

    @Test func preambleEpilogueQuotedNamesAndFilenames() throws {
        let body = Array("""
        This is the preamble, ignored.\r
        --b\r
        Content-Disposition: form-data; name="field \\"one\\""\r
        \r
        value 1\r
        --b   \r
        Content-Disposition: form-data; name=file; filename="C:\\\\dir\\\\re\\"port.pdf"\r
        Content-Type: application/pdf\r
        \r
        \r
        \r
        --b\r
        content-disposition: FORM-DATA; name="año"; filename*=UTF-8''informe%20a%C3%B1o.pdf; filename="fallback.pdf"\r
        \r
        x\r
        --b--\r
        This is the epilogue, ignored.\r
        --b\r

        """.utf8)
        let parts = try MultipartFormData.parse(body, contentType: "multipart/form-data; boundary=b")
        #expect(parts.count == 3)
        #expect(parts[0].name == "field \"one\"" && parts[0].body == Array("value 1".utf8) && parts[0].filename == nil)
        #expect(parts[1].name == "file" && parts[1].filename == "C:\\dir\\re\"port.pdf" && parts[1].body == [0x0D, 0x0A] && parts[1].contentType == "application/pdf")
        #expect(parts[2].name == "año" && parts[2].filename == "informe año.pdf" && parts[2].body == [0x78])
    }

    func failure(_ body: [UInt8], boundary: String = "b", limits: MultipartLimits = MultipartLimits()) -> MultipartError? {
        do {
            _ = try MultipartFormData.parse(body, contentType: "multipart/form-data; boundary=\(boundary)", limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func hostileBodiesGetClearErrors() throws {
        let field = "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
        let noOpening = failure(Array("just text, no boundary at all".utf8))
        #expect(noOpening?.code == .noOpeningBoundary && noOpening?.message.contains("--b") == true)
        let whole = Array("--b\r\n\(field)hola\r\n--b--\r\n".utf8)
        #expect(failure(whole) == nil)
        // Truncated anywhere: a clear error, never a part made up from half a body.
        for cut in 1..<whole.count - 3 {
            let error = failure(Array(whole.prefix(cut)))
            #expect(error != nil, "cut at \(cut)")
            if let error {
                #expect([.noOpeningBoundary, .noClosingBoundary, .unterminatedHeaders].contains(error.code), "cut at \(cut): \(error)")
            }
        }
        #expect(failure(Array("--b\r\n\(field)hola\r\n".utf8))?.message.contains("without the closing line --b--") == true)
        #expect(failure(Array("--b\n\(field)hola\n--b--\n".utf8))?.code == .bareLineFeed)
        #expect(failure(Array("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--".utf8))?.code == .partWithoutName)
        #expect(failure(Array("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--b--".utf8))?.code == .partWithoutName)
        #expect(failure(Array("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--".utf8))?.code == .noDisposition)
        #expect(failure(Array("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--".utf8))?.code == .badDisposition)
        #expect(failure(Array("--b\r\nno colon here\r\n\r\nx\r\n--b--".utf8))?.code == .badHeader)
        #expect(failure(Array("--b\r\nContent-Disposition: form-data; name=a\r\nx\r\n--b--".utf8))?.code == .unterminatedHeaders)
        #expect(failure(Array("--b\r\nContent-Disposition: form-data; name=a\r\n--b--".utf8))?.code == .unterminatedHeaders)
        #expect(failure(Array("--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--b--".utf8))?.code == .badParameter)
        #expect(failure(whole, limits: MultipartLimits(maxTotalBytes: 10))?.code == .tooLarge)
        // Through SendGridInbound: a rejection that names the problem.
        func rejection(_ body: [UInt8], _ contentType: String?) -> String {
            if case .failure(let reason) = SendGridInbound(provider: "sg").parse(body: body, contentType: contentType, at: Date()) { return reason.message }
            return "accepted"
        }
        #expect(rejection(whole, "multipart/form-data").contains("no boundary parameter"))
        #expect(rejection(whole, nil).contains("no Content-Type"))
        #expect(rejection(Array(whole.prefix(40)), "multipart/form-data; boundary=b").contains("without the closing line --b--"))
    }

    @Test func aHugeHeaderLineIsRefusedWithoutReadingIt() {
        let huge = Array("--b\r\nContent-Disposition: form-data; name=\"\(String(repeating: "a", count: 2_000_000))\"\r\n\r\nx\r\n--b--\r\n".utf8)
        let error = failure(huge)
        #expect(error?.code == .headerTooLong && error?.message.contains("16384") == true, "\(String(describing: error))")
        // The same through SendGridInbound: a rejection that says so.
        let rejection = SendGridInbound(provider: "sg").parse(body: huge, contentType: "multipart/form-data; boundary=b", at: Date())
        guard case .failure(let reason) = rejection else {
            Issue.record("accepted a 2 MB header line")
            return
        }
        #expect(reason.message.contains("header_too_long"))
    }

    @Test func tenThousandEmptyPartsAreCountedNotTrusted() throws {
        var body: [UInt8] = []
        for _ in 0..<10_000 { body += Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n".utf8) }
        body += Array("--b--\r\n".utf8)
        let error = failure(body)
        #expect(error?.code == .tooManyParts && error?.message.contains("256") == true)
        // With a limit that allows them, they are all read (the scan is linear).
        let parts = try MultipartFormData.parse(body, contentType: "multipart/form-data; boundary=b", limits: MultipartLimits(maxParts: 10_000))
        #expect(parts.count == 10_000 && parts.allSatisfy { $0.body.isEmpty && $0.name == "x" })
        // Parts with nothing at all (not even the empty line after headers) are refused by name.
        var bare: [UInt8] = []
        for _ in 0..<10_000 { bare += Array("--b\r\n".utf8) }
        bare += Array("--b--".utf8)
        #expect(failure(bare, limits: MultipartLimits(maxParts: 20_000))?.code == .noDisposition)
        let inbound = SendGridInbound(provider: "sg").parse(body: body, contentType: "multipart/form-data; boundary=b", at: Date())
        guard case .failure(let reason) = inbound else {
            Issue.record("accepted 10k parts")
            return
        }
        #expect(reason.message.contains("more than 256 parts"))
    }

    /// A large attachment is read in one linear pass and comes out byte for byte (the time is
    /// printed, not asserted).
    @Test func aLargeBinaryAttachmentIsReadWhole() throws {
        var random = SeededRandom()
        var file = (0..<(1 << 20)).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
        // Boundary look-alikes inside the file: a line break and dashes, without the full boundary.
        for offset in stride(from: 1000, to: file.count - 100, by: 65_536) { file.replaceSubrange(offset..<offset + 10, with: Array("\r\n--xYzZ\r\n".utf8)) }
        var body = Array("--xYzZY\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\nana@example.com\r\n".utf8)
        body += Array("--xYzZY\r\nContent-Disposition: form-data; name=\"attachment1\"; filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n".utf8)
        body += file + Array("\r\n--xYzZY--\r\n".utf8)
        let clock = ContinuousClock()
        let start = clock.now
        let parts = try MultipartFormData.parse(body, contentType: "multipart/form-data; boundary=xYzZY")
        print("multipart: \(body.count) bytes in \(clock.now - start) (debug build, \(random))")
        #expect(parts.count == 2 && parts[1].body == file, "\(random)")
        #expect(failure(body, boundary: "xYzZY", limits: MultipartLimits(maxTotalBytes: 8 << 20))?.code == .tooLarge)
    }

    /// Random damage to the documented payload and random bytes around boundaries: every body gets
    /// an answer (parts or an error), none crashes or hangs, and parts never hold more bytes than came in.
    @Test func fuzzedBodiesNeverCrashOrHang() {
        var random = SeededRandom()
        let seedBody = InboundFixtures.documented()
        let pieces: [[UInt8]] = [Array("\r\n".utf8), Array("\n".utf8), Array("--".utf8), Array("--001a11447dc881e40b0537fe6d58".utf8),
                                 Array("\r\n--001a11447dc881e40b0537fe6d58--".utf8), Array("Content-Disposition: form-data; name=\"".utf8),
                                 Array("\"".utf8), Array("\\".utf8), Array(";".utf8), Array("=?UTF-8?B?".utf8), [0x00], [0xFF], [0xC3]]
        let inbound = SendGridInbound(provider: "sg", limits: MultipartLimits(maxParts: 64, maxTotalBytes: 1 << 20, maxHeaderBytes: 2048))
        var accepted = 0
        for round in 0..<1_500 {
            var body = round % 5 == 0 ? [] : seedBody
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                switch Int.random(in: 0..<5, using: &random) {
                case 0 where !body.isEmpty:
                    body[Int.random(in: 0..<body.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 1 where !body.isEmpty:
                    body.removeSubrange(Int.random(in: 0..<body.count, using: &random)...)
                case 2:
                    body.insert(contentsOf: pieces.randomElement(using: &random)!, at: Int.random(in: 0...body.count, using: &random))
                case 3 where body.count > 2:
                    let start = Int.random(in: 0..<body.count - 1, using: &random)
                    let end = Int.random(in: start...min(body.count, start + 400), using: &random)
                    body.insert(contentsOf: body[start..<end], at: Int.random(in: 0...body.count, using: &random))
                default:
                    body += (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                }
            }
            if let parts = try? MultipartFormData.parse(body, contentType: InboundFixtures.contentType) {
                #expect(parts.reduce(0) { $0 + $1.body.count } <= body.count, "\(random)")
            }
            if case .success(let message) = inbound.parse(body: body, contentType: InboundFixtures.contentType, at: Date()) {
                accepted += 1
                #expect(!message.from.isEmpty && !message.messageID.isEmpty, "\(random)")
            }
            _ = MailText.htmlToText(String(decoding: body, as: UTF8.self))
            _ = MailText.decodeEncodedWords(String(decoding: body.prefix(2000), as: UTF8.self))
            _ = try? RawMail(body, limits: MultipartLimits(maxParts: 64, maxTotalBytes: 1 << 20, maxHeaderBytes: 2048))
            // Random Content-Type headers made of the same pieces.
            let header = String(decoding: (0..<Int.random(in: 0...8, using: &random)).flatMap { _ in pieces.randomElement(using: &random)! }, as: UTF8.self)
            _ = try? MultipartFormData.boundary(contentType: "multipart/form-data; boundary=" + header)
            _ = try? HeaderParameters.parse(header, context: "fuzz")
        }
        print("fuzz: \(accepted) of 1500 damaged bodies still read as messages (\(random))")
    }
}
