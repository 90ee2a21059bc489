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
 * loopback port with nothing saved to disk, and ended when closed (or when the JVM exits). Where it
 * cannot be found the tests are skipped, saying why, except in CI ({@code CI=true}), where that is a
 * failure.
 */
public final class TestRedis implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Thread onExit;

    private TestRedis(Process process, int port) {
        this.process = process;
        this.port = port;
        this.onExit = new Thread(process::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    public static TestRedis start(Path dir) throws IOException, InterruptedException {
        return start(dir, List.of());
    }

    /** With more of redis-server's options, e.g. {@code --requirepass secret}. */
    public static TestRedis start(Path dir, List<String> options) throws IOException, InterruptedException {
        int port = freePorts(1)[0];
        List<String> args = new ArrayList<>(List.of("--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString()));
        args.addAll(options);
        return launch(dir, "redis", port, args);
    }

    /** Runs redis-server with {@code args}, which make it listen on {@code port}; returns once it answers there. */
    static TestRedis launch(Path dir, String name, int port, List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(server().toString()));
        command.addAll(args);
        Path log = dir.resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        TestRedis redis = new TestRedis(process, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!redis.answers()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                redis.kill();
                Assertions.fail(name + " did not start: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return redis;
    }

    /** {@code n} different free loopback ports (all probed at once, so none is given twice). */
    static int[] freePorts(int n) throws IOException {
        List<ServerSocket> probes = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                probes.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            }
            return probes.stream().mapToInt(ServerSocket::getLocalPort).toArray();
        } finally {
            for (ServerSocket probe : probes) {
                probe.close();
            }
        }
    }

    /** redis-server, or the test is skipped (outside CI) or fails (in CI) saying why. */
    private static Path server() {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/sbin:/usr/local/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "redis-server");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String why = "redis-server is not installed (apt-get install redis-server)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(why + "; .ci/run installs it");
        }
        Assumptions.abort(why);
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

    public int port() {
        return port;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Ends it at once, as a crash would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException e) {
            // the JVM is exiting: the hook ends it anyway
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
