package dev.gatehouse.gateway.store;

import dev.gatehouse.gateway.config.StoreConfig;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real PostgreSQL with the real pgvector extension for tests, without building either: PGlite
 * (PostgreSQL compiled to WASM, from the npm registry) with its pgvector package, served on a free
 * loopback port by pglite-socket's {@code pglite-server}, which PostgreSQL's JDBC driver talks to as to
 * any server. The packages are installed from scripts/pglite's lock file on first use (.ci/run does it
 * up front). Without Node.js the tests are skipped, saying why, except in CI ({@code CI=true}), where
 * that is a failure.
 *
 * <p>PGlite is one PostgreSQL session that pglite-server shares among its clients: connections see each
 * other's session settings and named prepared statements, so the JDBC URL turns the driver's named
 * statements off ({@code prepareThreshold=0}). Everything else is PostgreSQL 18 and pgvector 0.8.
 */
public final class TestPgvector implements AutoCloseable {
    public static final Path PACKAGE = Path.of("..", "scripts", "pglite");
    private static final Pattern LISTENING = Pattern.compile("listening on \\{\"port\":(\\d+)");

    private final Path log;
    private final List<String> extensions;
    private Process process;
    private int port;

    private TestPgvector(Path log, List<String> extensions) {
        this.log = log;
        this.extensions = extensions;
    }

    /** Starts one on a free port, logging to {@code dir}/pglite.log. */
    public static TestPgvector start(Path dir) throws IOException, InterruptedException {
        TestPgvector server = new TestPgvector(dir.resolve("pglite.log"), List.of("--extensions", "@electric-sql/pglite-pgvector:vector"));
        server.launch(0);
        return server;
    }

    /** One whose PostgreSQL has no pgvector to create, as most servers out of the box. */
    public static TestPgvector startWithoutPgvector(Path dir) throws IOException, InterruptedException {
        TestPgvector server = new TestPgvector(dir.resolve("pglite-plain.log"), List.of());
        server.launch(0);
        return server;
    }

    /** The database, as {@code store.jdbc-url} would name it. */
    public StoreConfig store() {
        return StoreConfig.postgres("postgresql://127.0.0.1:" + port + "/postgres?prepareThreshold=0", "postgres", null);
    }

    public int port() {
        return port;
    }

    /** Ends it at once, as a crash would: its data (in memory) is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** A new, empty one on the same port, as a restarted server. */
    public void restart() throws IOException, InterruptedException {
        kill();
        launch(port);
    }

    private void launch(int onPort) throws IOException, InterruptedException {
        installPackages();
        Files.deleteIfExists(log);
        List<String> command = new ArrayList<>(List.of("node", PACKAGE.resolve("node_modules/.bin/pglite-server").toString(),
                "--host", "127.0.0.1", "--port", String.valueOf(onPort), "--max-connections", "32"));
        command.addAll(extensions);
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            String out = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = LISTENING.matcher(out);
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
                return;
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                Assertions.fail("pglite-server did not start: " + out);
            }
            Thread.sleep(50);
        }
    }

    /** {@code npm ci} in scripts/pglite unless its packages are there; one test class at a time. */
    private static synchronized void installPackages() throws IOException, InterruptedException {
        if (Files.exists(PACKAGE.resolve("node_modules/.bin/pglite-server"))) {
            return;
        }
        if (!onPath("node") || !onPath("npm")) {
            String why = "Node.js is not installed (apt-get install nodejs npm): the pgvector tests run PGlite";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(why + "; .ci/run installs it");
            }
            Assumptions.abort(why);
        }
        Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
                .directory(PACKAGE.toFile()).redirectErrorStream(true).start();
        String out = new String(npm.getInputStream().readAllBytes());
        if (npm.waitFor() != 0) {
            Assertions.fail("npm ci in scripts/pglite failed: " + out);
        }
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
