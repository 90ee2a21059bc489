package dev.gatehouse.gateway.backend;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The {@code data:} payloads of an upstream server-sent-event body, read on the caller's thread so a
 * slow client slows the read and TCP slows the provider. A provider silent for longer than
 * {@code stallMillis} is a {@link ReadTimeoutStream.StalledException}.
 *
 * <p>Lines are found in the bytes (SSE ends them with LF, CRLF or CR) and only data lines become
 * strings: a BufferedReader over an InputStreamReader cost a stream 24 KB of fresh buffers before
 * its first event (docs/benchmarks.md, the proxy path's fourth pass). A line longer than
 * {@value #MAX_LINE} bytes is an IOException (a 502), not an ever-growing buffer.
 */
public final class SseLines implements StreamPayloads {
    static final int MAX_LINE = 64 << 20;
    private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);

    private final ReadTimeoutStream body;
    private byte[] buffer = new byte[2048];
    private int start; // the unread bytes are buffer[start, end)
    private int end;
    private boolean afterCr; // the last line ended with CR: an LF right after it is part of that end

    public SseLines(InputStream body, long stallMillis) {
        this.body = new ReadTimeoutStream(body, stallMillis);
    }

    /** The next data payload, trimmed; null at the end of the body. Event names, comments and blank lines are skipped. */
    @Override
    public String nextData() throws IOException {
        int scanned = start;
        while (true) {
            for (int i = scanned; i < end; i++) {
                byte b = buffer[i];
                if (afterCr) {
                    afterCr = false;
                    if (b == '\n' && i == start) {
                        start++;
                        continue;
                    }
                }
                if (b == '\n' || b == '\r') {
                    int from = start;
                    start = i + 1;
                    afterCr = b == '\r';
                    if (isData(from, i)) {
                        return payload(from + DATA.length, i);
                    }
                }
            }
            scanned = end - start; // where the scan resumes once the unread bytes move to the front
            if (!fill()) { // the body ended: a last line without its end still counts
                int from = start;
                start = end;
                return isData(from, end) ? payload(from + DATA.length, end) : null;
            }
        }
    }

    @Override
    public boolean hasData() {
        int from = afterCr && start < end && buffer[start] == '\n' ? start + 1 : start;
        for (int i = from; i < end; i++) {
            if (buffer[i] == '\n' || buffer[i] == '\r') {
                if (isData(from, i)) {
                    return true;
                }
                from = i + 1;
                if (buffer[i] == '\r' && from < end && buffer[from] == '\n') {
                    from++;
                    i++;
                }
            }
        }
        return false;
    }

    /**
     * buffer[from, to) as a string, trimmed as String.trim would (bytes up to a space are those
     * characters in UTF-8), but trimmed before decoding: one string, not two, for the usual "data: {...}".
     */
    private String payload(int from, int to) {
        while (from < to && buffer[from] >= 0 && buffer[from] <= ' ') {
            from++;
        }
        while (to > from && buffer[to - 1] >= 0 && buffer[to - 1] <= ' ') {
            to--;
        }
        return new String(buffer, from, to - from, StandardCharsets.UTF_8);
    }

    private boolean isData(int from, int to) {
        return to - from >= DATA.length && Arrays.equals(buffer, from, from + DATA.length, DATA, 0, DATA.length);
    }

    /** Moves the unread bytes to the front, grows the buffer when they fill it, reads more; false at the end. */
    private boolean fill() throws IOException {
        int unread = end - start;
        if (unread == buffer.length) {
            if (buffer.length >= MAX_LINE) {
                throw new IOException("an event line longer than " + MAX_LINE + " bytes");
            }
            buffer = Arrays.copyOf(buffer, Math.min(buffer.length * 2, MAX_LINE));
        }
        System.arraycopy(buffer, start, buffer, 0, unread);
        start = 0;
        end = unread;
        int n = body.read(buffer, end, buffer.length - end);
        if (n < 0) {
            return false;
        }
        end += n;
        return true;
    }

    @Override
    public void close() {
        body.close();
    }
}
