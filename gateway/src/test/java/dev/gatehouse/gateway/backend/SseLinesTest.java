package dev.gatehouse.gateway.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseLinesTest {

    /** A body that arrives {@code step} bytes per read, so every line and line end is split somewhere. */
    private static InputStream inSteps(String body, int step) {
        return new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, step));
            }
        };
    }

    private static List<String> payloads(String body, int step) throws IOException {
        List<String> out = new ArrayList<>();
        try (SseLines lines = new SseLines(inSteps(body, step), 5_000)) {
            for (String data = lines.nextData(); data != null; data = lines.nextData()) {
                out.add(data);
            }
        }
        return out;
    }

    @Test
    void dataLinesWithEveryLineEndSplitAnywhere() throws IOException {
        String big = "x".repeat(10_000); // longer than the first buffer
        String body = ": a comment\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\n"
                + "data:{\"b\":\"é\"}\n\n"
                + "data: {\"c\":3}\r\r"
                + "id: 7\ndata: " + big + "\n\n"
                + "data:   [DONE]  ";  // the last line has no end
        List<String> expected = List.of("{\"a\":1}", "{\"b\":\"é\"}", "{\"c\":3}", big, "[DONE]");
        for (int step : new int[] {1, 2, 3, 7, 64, 100_000}) {
            assertEquals(expected, payloads(body, step), "read " + step + " bytes at a time");
        }
    }

    /** Trimmed as String.trim trims: spaces, tabs and control characters go, a no-break space or é at an end stays. */
    @Test
    void payloadsAreTrimmedAsStringTrimWould() throws IOException {
        List<String> raw = List.of(" \t\u0001é x é\t ", " \u00a0{}\u00a0 ", "\t", "é");
        StringBuilder body = new StringBuilder();
        for (String r : raw) {
            body.append("data:").append(r).append("\n\n");
        }
        assertEquals(raw.stream().map(String::trim).toList(), payloads(body.toString(), 3));
    }

    @Test
    void aCrAtTheEndOfOneReadAndItsLfAtTheStartOfTheNextAreOneLineEnd() throws IOException {
        assertEquals(List.of("1", "", "2"), payloads("data: 1\r\ndata:\r\ndata: 2\r\n", 8),
                "an empty data line stays an (empty) event; no line is made of the LF alone");
    }

    @Test
    void anEmptyBodyHasNoEvents() throws IOException {
        assertEquals(List.of(), payloads("", 1));
        assertEquals(List.of(), payloads("\r\n\n: keep-alive\n", 1));
    }

    @Test
    void hasDataOnlyWhenAWholeDataLineIsBufferedSoAskingNeverReads() throws IOException {
        try (SseLines lines = new SseLines(inSteps("data: 1\r\n: note\r\ndata: 2\r\nevent: x\ndata: 3", 1_000), 5_000)) {
            assertEquals(false, lines.hasData(), "nothing read yet");
            assertEquals("1", lines.nextData());
            assertEquals(true, lines.hasData(), "a comment, then a whole data line");
            assertEquals("2", lines.nextData());
            assertEquals(false, lines.hasData(), "an event line, then a data line without its end");
            assertEquals("3", lines.nextData());
            assertEquals(null, lines.nextData());
        }
    }

    @Test
    void aProviderLineThatNeverEndsIsAnErrorNotAGrowingBuffer() {
        long[] served = {0};
        InputStream endless = new InputStream() { // "data: aaaa..." forever, never a line end
            @Override
            public int read() {
                served[0]++;
                return 'a';
            }

            @Override
            public int read(byte[] b, int off, int len) {
                java.util.Arrays.fill(b, off, off + len, (byte) 'a');
                served[0] += len;
                return len;
            }
        };
        IOException e = assertThrows(IOException.class, () -> {
            try (SseLines lines = new SseLines(endless, 5_000)) {
                lines.nextData();
            }
        });
        assertTrue(e.getMessage().contains("longer than"), e.getMessage());
        assertTrue(served[0] <= 2L * SseLines.MAX_LINE, "read " + served[0] + " bytes before giving up");
    }
}
