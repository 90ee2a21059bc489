package dev.gatehouse.gateway.api.openai;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Every log line while open, with Gatehouse's own loggers at every level and the rest (Helidon,
 * the JDK) at their defaults: Helidon's opt-in FINEST wire log prints headers, Authorization
 * included, as any such debug log does.
 */
final class LogCapture implements AutoCloseable {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Logger root = Logger.getLogger("");
    private final Logger gatehouse = Logger.getLogger("dev.gatehouse");
    private final Level level = gatehouse.getLevel();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            lines.add(r.getLoggerName() + ": " + r.getMessage() + " " + java.util.Arrays.toString(r.getParameters())
                    + " " + r.getThrown());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    LogCapture() {
        gatehouse.setLevel(Level.ALL);
        root.addHandler(handler);
    }

    /** The lines that contain {@code secret}: none, when nothing leaked. */
    List<String> containing(String secret) {
        return lines.stream().filter(line -> line.contains(secret)).toList();
    }

    @Override
    public void close() {
        root.removeHandler(handler);
        gatehouse.setLevel(level);
    }
}
