package dev.gatehouse.gateway.backend;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The {@code data:} payloads of an upstream server-sent-event body, read on the caller's thread so a
 * slow client slows the read and TCP slows the provider. A provider silent for longer than
 * {@code stallMillis} between two lines is a {@link StalledException}: the JDK client has no read
 * timeout of its own, so a watchdog closes the body under the blocked read.
 */
public final class SseLines implements AutoCloseable {
    private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

    /** No line came within the stall timeout. */
    public static final class StalledException extends IOException {
        StalledException(long millis) {
            super("no data for " + millis + " ms");
        }
    }

    private final InputStream body;
    private final BufferedReader lines;
    private final long stallMillis;
    private volatile boolean stalled;

    public SseLines(InputStream body, long stallMillis) {
        this.body = body;
        this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        this.stallMillis = stallMillis;
    }

    /** The next data payload, trimmed; null at the end of the body. Event names, comments and blank lines are skipped. */
    public String nextData() throws IOException {
        while (true) {
            String line = readLine();
            if (line == null) {
                return null;
            }
            if (line.startsWith("data:")) {
                return line.substring(5).trim();
            }
        }
    }

    private String readLine() throws IOException {
        ScheduledFuture<?> alarm = WATCHDOG.schedule(() -> {
            stalled = true;
            close();
        }, stallMillis, TimeUnit.MILLISECONDS);
        try {
            String line = lines.readLine();
            if (stalled) {
                throw new StalledException(stallMillis);
            }
            return line;
        } catch (IOException e) {
            throw stalled ? new StalledException(stallMillis) : e;
        } finally {
            alarm.cancel(false);
        }
    }

    /** Closing the body before its end aborts the upstream request. */
    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException ignored) {
            // nothing more to read either way
        }
    }

    private static ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "upstream-stall-watchdog");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true); // one alarm per line: cancelled ones must not pile up
        return timer;
    }
}
