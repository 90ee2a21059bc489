package dev.gatehouse.gateway.plugin;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.FinishReason;
import java.util.EnumSet;
import java.util.Random;

/**
 * PII redaction on hostile and ordinary bodies (scripts/bench-pii, docs/benchmarks.md): for each
 * body shape, sizes doubling from 64 KiB to {@code bench.mib} MiB, one whole-text redaction and one
 * streamed in 8-character deltas; a shape stops growing once one size takes over
 * {@code bench.limit} seconds, so a quadratic case does not run for hours.
 */
public final class PiiRedactionBench {
    public static void main(String[] args) throws Exception {
        double mib = Double.parseDouble(System.getProperty("bench.mib", "4"));
        double limit = Double.parseDouble(System.getProperty("bench.limit", "20"));
        PiiRedactor redactor = new PiiRedactor(EnumSet.allOf(PiiKind.class));
        String[][] shapes = {
                {"short e-mails", "a1@b.io "},
                {"digit runs", "12345678901234567890123456789012345678901234567890 "},
                {"+ and digit runs", "+123456789012345678901234567890123456789 "},
                {"card-like numbers", "4111 1111 1111 1112 "},
                {"single digits", "1 "},
                {"prose with PII", null},
        };
        System.out.println("| body | size | whole ms | streamed ms | redactions |");
        System.out.println("|---|---|---|---|---|");
        for (String[] shape : shapes) {
            boolean[] stopWhole = {false};
            boolean[] stopStream = {false};
            for (int kib = 64; kib <= mib * 1024; kib *= 2) {
                String body = shape[1] == null ? prose(kib * 1024) : repeat(shape[1], kib * 1024);
                String[] out = new String[1];
                String whole = time(stopWhole, limit, () -> out[0] = redactor.redact(body));
                String streamed = time(stopStream, limit, () -> out[0] = streamed(redactor, body));
                System.out.printf("| %s | %s | %s | %s | %s |%n", shape[0],
                        kib >= 1024 ? kib / 1024 + " MiB" : kib + " KiB", whole, streamed,
                        out[0] == null ? "" : String.valueOf(redactions(out[0])));
                if (stopWhole[0] && stopStream[0]) {
                    break;
                }
            }
        }
    }

    /** Milliseconds for {@code work} (best of two once it is quick), or "skipped" once a smaller size went over the limit. */
    private static String time(boolean[] stop, double limitSeconds, Runnable work) {
        if (stop[0]) {
            return "skipped";
        }
        long best = Long.MAX_VALUE;
        for (int run = 0; run < 2; run++) {
            long t0 = System.nanoTime();
            work.run();
            best = Math.min(best, System.nanoTime() - t0);
            if (best > 1_000_000_000L) {
                break;
            }
        }
        if (best > limitSeconds * 1e9) {
            stop[0] = true;
        }
        return String.valueOf(best / 1_000_000);
    }

    private static String streamed(PiiRedactor redactor, String body) {
        ChatStream source = new ChatStream() {
            int at = 0;

            public ChatEvent next() {
                if (at >= body.length()) {
                    return at++ == body.length() ? new ChatEvent.Finish(0, FinishReason.STOP) : null;
                }
                int end = Math.min(at + 8, body.length());
                ChatEvent e = new ChatEvent.Delta(0, body.substring(at, end), null);
                at = end;
                return e;
            }

            public void close() {}
        };
        StringBuilder out = new StringBuilder();
        try (ChatStream s = new RedactingStream(source, redactor)) {
            for (ChatEvent e; (e = s.next()) != null; ) {
                if (e instanceof ChatEvent.Delta d) {
                    out.append(d.text());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out.toString();
    }

    private static String repeat(String unit, int bytes) {
        return unit.repeat(Math.max(1, bytes / unit.length()));
    }

    /** Ordinary sentences with an e-mail, a phone number, a card number, dates and prices mixed in. */
    private static String prose(int bytes) {
        String[] parts = {
                "The meeting moved to 2024-03-15 at 10:30, room 4.12. ",
                "Write to jane.doe+work@mail.example.co.uk for details. ",
                "Call +44 20 7946 0958 or (555) 123-4567 after lunch. ",
                "It costs $1,299.99 or about 1 234 567 in total. ",
                "Pay with 4111 1111 1111 1111, expiry 12/26. ",
                "Version 1.2.3 answered in 250 ms on 192.168.100.100. ",
        };
        Random random = new Random(7);
        StringBuilder b = new StringBuilder(bytes + 64);
        while (b.length() < bytes) {
            b.append(parts[random.nextInt(parts.length)]);
        }
        return b.toString();
    }

    private static long redactions(String text) {
        return text.chars().filter(c -> c == '[').count();
    }
}
