package dev.gatehouse.gateway.backend;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The {@code data:} payloads of an upstream server-sent-event body, read on the caller's thread so a
 * slow client slows the read and TCP slows the provider. A provider silent for longer than
 * {@code stallMillis} is a {@link ReadTimeoutStream.StalledException}.
 */
public final class SseLines implements StreamPayloads {
    private final ReadTimeoutStream body;
    private final BufferedReader lines;

    public SseLines(InputStream body, long stallMillis) {
        this.body = new ReadTimeoutStream(body, stallMillis);
        this.lines = new BufferedReader(new InputStreamReader(this.body, StandardCharsets.UTF_8));
    }

    /** The next data payload, trimmed; null at the end of the body. Event names, comments and blank lines are skipped. */
    @Override
    public String nextData() throws IOException {
        while (true) {
            String line = lines.readLine();
            if (line == null) {
                return null;
            }
            if (line.startsWith("data:")) {
                return line.substring(5).trim();
            }
        }
    }

    @Override
    public void close() {
        body.close();
    }
}
