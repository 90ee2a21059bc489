package dev.gatehouse.gateway.shared;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis for tests: Debian's {@code redis-server} (installed by .ci/run), started on a free
 * loopback port with nothing saved to disk. Where it cannot be found the tests are skipped, saying
 * why, except in CI ({@code CI=true}), where that is a failure.
 */
public final class TestRedis implements AutoCloseable {
    private final Process process;
    private final int port;

    private TestRedis(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    public static TestRedis start(Path dir) throws IOException, InterruptedException {
        return start(dir, List.of());
    }

    /** With more of redis-server's options, e.g. {@code --requirepass secret}. */
    public static TestRedis start(Path dir, List<String> options) throws IOException, InterruptedException {
        Path server = find();
        if (server == null) {
            String why = "redis-server is not installed (apt-get install redis-server)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(why + "; .ci/run installs it");
            }
            Assumptions.abort(why);
        }
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of(server.toString(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString()));
        command.addAll(options);
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        TestRedis redis = new TestRedis(process, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!redis.answers()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                Assertions.fail("redis-server did not start: " + Files.readString(dir.resolve("redis.log")));
            }
            Thread.sleep(50);
        }
        return redis;
    }

    private static Path find() {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/sbin:/usr/local/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "redis-server");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** Whether it answers PING (or refuses it for want of a password). */
    private boolean answers() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            s.setSoTimeout(500);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String reply = new String(in.readNBytes(7), StandardCharsets.US_ASCII);
            return reply.equals("+PONG\r\n") || reply.equals("-NOAUTH"); // up, and asking for its password
        } catch (IOException e) {
            return false;
        }
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Ends it at once, as a crash would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
