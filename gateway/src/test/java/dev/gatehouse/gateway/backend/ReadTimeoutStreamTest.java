package dev.gatehouse.gateway.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ReadTimeoutStreamTest {
    private static final long STALL_MILLIS = 300;

    /** A body whose bytes come when the test offers them; -1 ends it; closing it ends a read under way, as the JDK's does. */
    static final class SlowBody extends InputStream {
        final BlockingQueue<Integer> bytes = new LinkedBlockingQueue<>();
        volatile Thread reader;

        @Override
        public int read() throws IOException {
            reader = Thread.currentThread();
            try {
                int b = bytes.take();
                if (b == -2) {
                    throw new IOException("closed");
                }
                return b;
            } catch (InterruptedException e) {
                throw new InterruptedIOException();
            }
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int b = read();
            if (b < 0) {
                return -1;
            }
            buffer[offset] = (byte) b;
            return 1;
        }

        @Override
        public void close() {
            bytes.add(-2);
        }
    }

    @Test
    void aBodyThatTricklesInWithinTheTimeoutIsReadWholeHoweverLongItTakes() throws Exception {
        SlowBody body = new SlowBody();
        Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; i < 8; i++) { // 8 x 100 ms: well past the 300 ms timeout in all, never within a read
                    Thread.sleep(100);
                    body.bytes.add('a' + i);
                }
                body.bytes.add(-1);
            } catch (InterruptedException ignored) {
                // the test ends
            }
        });
        try (ReadTimeoutStream in = new ReadTimeoutStream(body, STALL_MILLIS)) {
            assertArrayEquals("abcdefgh".getBytes(), in.readAllBytes());
        }
    }

    @Test
    void aReaderThatPausesBetweenReadsLongerThanTheTimeoutIsNoStall() throws Exception {
        SlowBody body = new SlowBody();
        body.bytes.add((int) 'a');
        body.bytes.add((int) 'b');
        try (ReadTimeoutStream in = new ReadTimeoutStream(body, STALL_MILLIS)) {
            assertTrue(in.read() == 'a');
            Thread.sleep(2 * STALL_MILLIS); // the caller is busy (a slow client), not the provider
            assertTrue(in.read() == 'b');
        }
    }

    @Test
    void aReadThatWaitsLongerThanTheTimeoutIsAStall() throws Exception {
        SlowBody body = new SlowBody();
        body.bytes.add((int) 'a');
        try (ReadTimeoutStream in = new ReadTimeoutStream(body, STALL_MILLIS)) {
            assertTrue(in.read() == 'a');
            Thread.sleep(STALL_MILLIS / 2); // between reads: does not count
            long start = System.nanoTime();
            assertThrows(ReadTimeoutStream.StalledException.class, in::read);
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(waited >= STALL_MILLIS - 10 && waited < STALL_MILLIS + 2_000, "stalled after " + waited + " ms");
            assertThrows(ReadTimeoutStream.StalledException.class, in::read); // and stays stalled
        }
    }
}
