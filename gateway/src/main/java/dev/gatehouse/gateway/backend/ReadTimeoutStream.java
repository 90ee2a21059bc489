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
    private volatile long readingSince; // System.nanoTime() when the read under way began; NOT_READING between reads
    private ScheduledFuture<?> alarm; // guarded by this; null when none is set
    private boolean closed; // guarded by this

    private static final long NOT_READING = Long.MIN_VALUE;

    public ReadTimeoutStream(InputStream body, long stallMillis) {
        this.body = body;
        this.stallMillis = stallMillis;
        this.readingSince = NOT_READING;
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
        readingSince = System.nanoTime();
        arm();
        try {
            int n = body.read(buffer, offset, length);
            if (stalled) {
                throw new StalledException(stallMillis);
            }
            return n;
        } catch (IOException e) {
            throw stalled ? new StalledException(stallMillis) : e;
        } finally {
            readingSince = NOT_READING;
        }
    }

    /**
     * One alarm per stream, not per read (scheduling and cancelling one per read woke the watchdog
     * thread every time): set by a read when none is, it checks the read under way when it rings.
     */
    private synchronized void arm() {
        if (alarm == null && !closed) {
            alarm = WATCHDOG.schedule(this::ring, stallMillis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * A read waiting the whole stall timeout is a stall; one waiting less sets the alarm for its own
     * end; with no read under way the next read sets one. Under the lock, so a read that begins now
     * either finds this alarm still set and is seen here, or finds none and sets its own.
     */
    private void ring() {
        synchronized (this) {
            alarm = null;
            long since = readingSince;
            if (closed || since == NOT_READING) {
                return;
            }
            long left = TimeUnit.MILLISECONDS.toNanos(stallMillis) - (System.nanoTime() - since);
            if (left > 0) {
                alarm = WATCHDOG.schedule(this::ring, left, TimeUnit.NANOSECONDS);
                return;
            }
            stalled = true;
        }
        close();
    }

    /** Closing the body before its end aborts the upstream request. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (alarm != null) {
                alarm.cancel(false);
                alarm = null;
            }
        }
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
        timer.setRemoveOnCancelPolicy(true); // one alarm per open stream: cancelled ones must not pile up
        return timer;
    }
}
