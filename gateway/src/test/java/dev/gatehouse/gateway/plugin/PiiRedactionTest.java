package dev.gatehouse.gateway.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.Message;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The pii-redaction plugin: what it redacts, what it leaves alone, and PII split across streamed deltas. */
class PiiRedactionTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PiiRedactionPlugin plugin(String settings) throws Exception {
        PiiRedactionPlugin p = new PiiRedactionPlugin();
        p.configure(JSON.readTree(settings));
        return p;
    }

    private static String redact(String text) throws Exception {
        ChatRequest r = plugin("{}").onRequest(chat(text), null);
        return r.messages().get(0).text();
    }

    private static ChatRequest chat(String text) {
        return new ChatRequest("m", List.of(new Message("user", text)), null, 10, null, 1, false, false, false, null);
    }

    @Test
    void emailsPhonesAndCardsAreReplaced() throws Exception {
        assertEquals("write to [EMAIL] today", redact("write to jane.doe+work@mail.example.co.uk today"));
        assertEquals("Mail [EMAIL].", redact("Mail a@b.com."));
        assertEquals("call [PHONE] or [PHONE]", redact("call +44 20 7946 0958 or (555) 123-4567"));
        assertEquals("[PHONE], [PHONE], [PHONE], [PHONE]",
                redact("555-123-4567, 555.123.4567, 5551234567, +33 6 12 34 56 78"));
        assertEquals("intl [PHONE] and [PHONE]", redact("intl +1-555-123-4567 and 06 12 34 56 78"));
        assertEquals("pay with [CARD] or [CARD] or [CARD]",
                redact("pay with 4111 1111 1111 1111 or 5500-0000-0000-0004 or 378282246310005"));
    }

    @Test
    void cardNumbersMustPassLuhn() throws Exception {
        assertTrue(PiiKind.luhn("4111111111111111"));
        assertTrue(PiiKind.luhn("4012 8888 8888 1881"));
        assertFalse(PiiKind.luhn("4111111111111112"));
        assertFalse(PiiKind.luhn("4111")); // too short to be a card
        assertEquals("order 4111 1111 1111 1112 shipped", redact("order 4111 1111 1111 1112 shipped"));
        assertEquals("id 1234567890123456789", redact("id 1234567890123456789")); // 19 digits, not Luhn, too long for a phone
    }

    @Test
    void aCardFollowedByItsExpiryOrCvvIsStillRedacted() throws Exception {
        assertEquals("card [CARD] 12/26", redact("card 4111 1111 1111 1111 12/26"));
        assertEquals("card [CARD] 123", redact("card 4111111111111111 123"));
        assertEquals("[CARD] 12 26 cvv 737", redact("5500-0000-0000-0004 12 26 cvv 737"));
    }

    @Test
    void aCardAfterOtherDigitsIsStillRedacted() throws Exception {
        assertEquals("ref 12 [CARD]", redact("ref 12 4111 1111 1111 1111"));
        assertEquals("987-[CARD] thanks", redact("987-4111-1111-1111-1111 thanks"));
    }

    @Test
    void aStreamedCardFollowedByItsExpiryOrCvvIsRedacted() throws Exception {
        List<ChatEvent> out = respond(delta("card 4111 1111 1111"), delta(" 1111 12"), delta("/26 ok"), finish());
        assertEquals("card [CARD] 12/26 ok", text(out, 0));
        out = respond(delta("card 4111111111111111"), delta(" 12"), delta("3"), finish());
        assertEquals("card [CARD] 123", text(out, 0));
        assertTrue(out.stream().filter(e -> e instanceof ChatEvent.Delta)
                .noneMatch(e -> ((ChatEvent.Delta) e).text().contains("1111")), "no digits leak: " + out);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "In 2024 the model used 12345 tokens.",
            "Released on 2024-01-15 at 10:30, version 1.2.3.",
            "It costs $1,299.99 or 1234.56 EUR, about 1 234 567 in total.",
            "Count: 1 2 3 4 5 6 7 8 9 10 11 12",
            "Between 1990-2000 the rate was 3.14159265358979.",
            "The server at 192.168.100.100 answered in 250 ms.",
            "Use a@b or user@localhost as a name, and 98% of @mentions.",
    })
    void ordinaryTextAndNumbersAreLeftAlone(String text) throws Exception {
        assertEquals(text, redact(text));
    }

    @Test
    void settingsChooseKindsAndDirection() throws Exception {
        PiiRedactionPlugin emailsOnly = plugin("{\"redact\": [\"email\"], \"in\": [\"request\"]}");
        assertEquals("[EMAIL] 555-123-4567",
                emailsOnly.onRequest(chat("a@b.com 555-123-4567"), null).messages().get(0).text());
        ChatStream raw = stream(delta("a@b.com"));
        assertTrue(emailsOnly.onResponse(null, raw) == raw, "no response redaction unless asked");

        PiiRedactionPlugin responseOnly = plugin("{\"in\": \"response\"}");
        assertEquals("a@b.com", responseOnly.onRequest(chat("a@b.com"), null).messages().get(0).text());

        ChatRequest prompt = new ChatRequest("m", null, List.of("mail a@b.com"), 10, null, 1, false, false, false, null);
        assertEquals(List.of("mail [EMAIL]"), plugin("{}").onRequest(prompt, null).prompts());
    }

    @Test
    void wrongSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> plugin("{\"redact\": [\"ssn\"]}"));
        assertThrows(IllegalArgumentException.class, () -> plugin("{\"in\": [\"both\"]}"));
        assertThrows(IllegalArgumentException.class, () -> plugin("{\"mode\": \"strict\"}"));
        assertThrows(IllegalArgumentException.class, () -> plugin("{\"redact\": 3}"));
    }

    @Test
    void anEmailSplitAcrossDeltasIsRedacted() throws Exception {
        List<ChatEvent> out = respond(delta("Write to a@b"), delta(".com"), delta(" now"), finish());
        assertEquals("Write to [EMAIL] now", text(out, 0));
        assertTrue(out.stream().filter(e -> e instanceof ChatEvent.Delta)
                .noneMatch(e -> ((ChatEvent.Delta) e).text().contains("@")), "no part of the address leaks: " + out);
    }

    @Test
    void aCardSplitAcrossThreeDeltasIsRedacted() throws Exception {
        List<ChatEvent> out = respond(delta("card 4111 11"), delta("11 1111 11"), delta("11 thanks"), finish());
        assertEquals("card [CARD] thanks", text(out, 0));
        assertTrue(out.stream().filter(e -> e instanceof ChatEvent.Delta)
                .noneMatch(e -> ((ChatEvent.Delta) e).text().contains("11")), "no digits leak: " + out);
    }

    @Test
    void aPhoneNumberAtTheVeryEndIsFlushedRedactedOnFinish() throws Exception {
        List<ChatEvent> out = respond(delta("call +1 555"), delta(" 123 4567"), finish(), new ChatEvent.Usage(3, 4));
        assertEquals("call [PHONE]", text(out, 0));
        assertTrue(out.get(out.size() - 2) instanceof ChatEvent.Finish);
        assertEquals(new ChatEvent.Usage(3, 4), out.getLast());
    }

    @Test
    void plainTextStreamsThroughHoldingOnlyThePartialWord() throws Exception {
        List<ChatEvent> out = respond(delta("Hello wor"), delta("ld, how are you?"), finish());
        assertEquals("Hello ", ((ChatEvent.Delta) out.get(0)).text());
        assertEquals("Hello world, how are you?", text(out, 0));
    }

    @Test
    void whatIsHeldBackIsBounded() throws Exception {
        ChatStream s = plugin("{}").onResponse(null, stream(delta("x".repeat(100)), delta("y".repeat(100)),
                delta("z".repeat(100)), finish()));
        int before = 0;
        for (ChatEvent e; !((e = s.next()) instanceof ChatEvent.Finish); ) {
            before += ((ChatEvent.Delta) e).text().length();
        }
        assertTrue(before >= 300 - RedactingStream.MAX_HOLD, "a word with no end is passed on, not kept: " + before);
    }

    @Test
    void choicesAreRedactedEachOnTheirOwn() throws Exception {
        List<ChatEvent> out = respond(new ChatEvent.Delta(0, "x@y", null), new ChatEvent.Delta(1, "z@w", null),
                new ChatEvent.Delta(1, ".org", null), new ChatEvent.Delta(0, ".io!", null),
                new ChatEvent.Finish(0, FinishReason.STOP), new ChatEvent.Finish(1, FinishReason.STOP));
        assertEquals("[EMAIL]!", text(out, 0));
        assertEquals("[EMAIL]", text(out, 1));
    }

    @Test
    void logprobsOfRedactedTokensAreDropped() throws Exception {
        ChatEvent.Delta d1 = new ChatEvent.Delta(0, "hi a@", List.of(token("hi"), token(" a"), token("@")));
        ChatEvent.Delta d2 = new ChatEvent.Delta(0, "b.com ok", List.of(token("b"), token(".com"), token(" ok")));
        List<ChatEvent> out = respond(d1, d2, finish());
        assertEquals("hi [EMAIL] ok", text(out, 0));
        List<String> tokens = new ArrayList<>();
        for (ChatEvent e : out) {
            if (e instanceof ChatEvent.Delta d) {
                d.logprobs().forEach(t -> tokens.add(t.token()));
            }
        }
        assertEquals(List.of("hi", " ok"), tokens);
    }

    @Test
    void closingTheRedactingStreamClosesTheModelsStream() throws Exception {
        boolean[] closed = {false};
        ChatStream inner = new ChatStream() {
            public ChatEvent next() {
                return null;
            }

            public void close() {
                closed[0] = true;
            }
        };
        ChatStream s = plugin("{}").onResponse(null, inner);
        assertNull(s.next());
        s.close();
        assertTrue(closed[0]);
    }

    /** Ordinary sentences with PII in them, and what they must become: the same before and after the linear-time rewrite. */
    private static final String[][] PROSE = {
            {"Write to jane.doe+work@mail.example.co.uk for details. ", "Write to [EMAIL] for details. "},
            {"Call +44 20 7946 0958 or (555) 123-4567 after lunch. ", "Call [PHONE] or [PHONE] after lunch. "},
            {"Pay with 4111 1111 1111 1111, expiry 12/26. ", "Pay with [CARD], expiry 12/26. "},
            {"Card 4111 1111 1111 1111 12 26 cvv 737 ok. ", "Card [CARD] 12 26 cvv 737 ok. "},
            {"Ref 12 4111 1111 1111 1111 done. ", "Ref 12 [CARD] done. "},
            {"Intl +1-555-123-4567, +33 6 12 34 56 78 and +15551234567. ", "Intl [PHONE], [PHONE] and [PHONE]. "},
            {"Order 4111 1111 1111 1112 shipped on 2024-03-15 at 10:30. ", "Order 4111 1111 1111 1112 shipped on 2024-03-15 at 10:30. "},
            {"It costs $1,299.99 or about 1 234 567 in total. ", "It costs $1,299.99 or about 1 234 567 in total. "},
            {"Version 1.2.3 answered in 250 ms on 192.168.100.100. ", "Version 1.2.3 answered in 250 ms on 192.168.100.100. "},
            {"Mail a@b.com, c.d@e-f.org; or 555.123.4567! ", "Mail [EMAIL], [EMAIL]; or [PHONE]! "},
    };

    @Test
    void realisticTextIsRedactedTheSameWholeAndStreamedInAnyChunkSize() throws Exception {
        StringBuilder text = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < 400; i++) {
            String[] pair = PROSE[random.nextInt(PROSE.length)];
            text.append(pair[0]);
            expected.append(pair[1]);
        }
        assertEquals(expected.toString(), redact(text.toString()));
        for (int chunk : new int[]{1, 2, 3, 5, 8, 13, 64, 1000}) {
            List<ChatEvent> deltas = new ArrayList<>();
            for (int at = 0; at < text.length(); at += chunk) {
                deltas.add(delta(text.substring(at, Math.min(at + chunk, text.length()))));
            }
            deltas.add(finish());
            assertEquals(expected.toString(), text(respond(deltas.toArray(ChatEvent[]::new)), 0), "chunks of " + chunk);
        }
    }

    /**
     * Hostile bodies cost a bounded number of character reads per character: no pattern backtracks
     * through every way to split a long digit run, and a card-like number is Luhn-checked a bounded
     * number of times. Counted, not timed, so a loaded machine cannot make it flaky.
     */
    @ParameterizedTest
    @ValueSource(strings = {"+123456789012345678901234567890123456789 ", "1 ", "4111 1111 1111 1112 ", "1-2 3-4 ",
            "12345678901234567890123456789012345678901234567890 ", "a1@b.io ", "(555) 123-4567 89 ", "+1 (23) 45 67 89 01 23 "})
    void redactionReadsEachCharacterABoundedNumberOfTimes(String unit) {
        String body = unit.repeat(20_000 / unit.length());
        CountingText text = new CountingText(body, new long[1]);
        new PiiRedactor(java.util.EnumSet.allOf(PiiKind.class)).find(text, 0, body.length());
        long perChar = text.reads[0] / body.length();
        assertTrue(perChar < 200, "reads per character of '" + unit + "': " + perChar);
    }

    /** Text that counts how often its characters are read. */
    private record CountingText(CharSequence inner, long[] reads) implements CharSequence {
        public int length() {
            return inner.length();
        }

        public char charAt(int index) {
            reads[0]++;
            return inner.charAt(index);
        }

        public CharSequence subSequence(int start, int end) {
            return new CountingText(inner.subSequence(start, end), reads);
        }

        @Override
        public String toString() {
            return inner.toString();
        }
    }

    private static ChatEvent.TokenLogprob token(String t) {
        return new ChatEvent.TokenLogprob(t, -0.5f, List.of());
    }

    private static ChatEvent.Delta delta(String text) {
        return new ChatEvent.Delta(0, text, null);
    }

    private static ChatEvent.Finish finish() {
        return new ChatEvent.Finish(0, FinishReason.STOP);
    }

    private static List<ChatEvent> respond(ChatEvent... events) throws Exception {
        ChatStream s = plugin("{}").onResponse(null, stream(events));
        List<ChatEvent> out = new ArrayList<>();
        for (ChatEvent e; (e = s.next()) != null; ) {
            out.add(e);
        }
        return out;
    }

    private static String text(List<ChatEvent> events, int index) {
        StringBuilder b = new StringBuilder();
        for (ChatEvent e : events) {
            if (e instanceof ChatEvent.Delta d && d.index() == index) {
                b.append(d.text());
            }
        }
        return b.toString();
    }

    static ChatStream stream(ChatEvent... events) {
        Iterator<ChatEvent> it = List.of(events).iterator();
        return new ChatStream() {
            public ChatEvent next() {
                return it.hasNext() ? it.next() : null;
            }

            public void close() {}
        };
    }
}
