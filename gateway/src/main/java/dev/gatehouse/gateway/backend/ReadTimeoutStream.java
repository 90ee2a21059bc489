package dev.gatehouse.gateway.backend;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A provider's response body with the read timeout the JDK client lacks (its request timeout ends
 * when the headers arrive): a read that waits longer than {@code stallMillis} for a byte is a
 * {@link StalledException}, because a watchdog closes the body under the blocked read. Whole
 * answers and streams both read through it, so a provider that sends its headers and then goes
 * silent fails as a timeout either way.
 */
public final class ReadTimeoutStream extends InputStream {
    private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

    /** No byte came within the stall timeout. */
    public static final class StalledException extends IOException {
        StalledException(long millis) {
            super("no data for " + millis + " ms");
        }
    }

    private final InputStream body;
    private final long stallMillis;
    private volatile boolean stalled;

    public ReadTimeoutStream(InputStream body, long stallMillis) {
        this.body = body;
        this.stallMillis = stallMillis;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (stalled) {
            throw new StalledException(stallMillis);
        }
        ScheduledFuture<?> alarm = WATCHDOG.schedule(() -> {
            stalled = true;
            close();
        }, stallMillis, TimeUnit.MILLISECONDS);
        try {
            int n = body.read(buffer, offset, length);
            if (stalled) {
                throw new StalledException(stallMillis);
            }
            return n;
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
        timer.setRemoveOnCancelPolicy(true); // one alarm per read: cancelled ones must not pile up
        return timer;
    }
}
