package dev.gatehouse.gateway.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.gateway.Main;
import dev.gatehouse.serving.testing.TestModelFolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code gatehouse chat} in a real terminal: tmux runs it, the test types with send-keys (Ctrl-C included)
 * and reads the screen with capture-pane.
 */
class ChatCommandTest {
    @TempDir
    Path tmp;
    String socket;
    HttpServer server;
    final List<String> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void needsTmux() throws Exception {
        assumeTrue(run("tmux", "-V").exit == 0, "tmux is not installed");
        socket = "gatehouse-chat-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (socket != null) {
            run("tmux", "-L", socket, "kill-server");
        }
        if (server != null) {
            server.stop(0);
        }
    }

    record Ran(int exit, String out) {}

    private static Ran run(String... cmd) throws Exception {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            return new Ran(p.exitValue(), out);
        } catch (IOException e) {
            return new Ran(-1, e.getMessage());
        }
    }

    /** Starts {@code gatehouse chat ARGS} in a tmux pane; its exit status lands in exit.txt. */
    private void startChat(String... args) throws Exception {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "chat"));
        java.addAll(List.of(args));
        StringBuilder script = new StringBuilder("trap true INT\n"); // Ctrl-C is the chat's to handle, not the shell's
        java.forEach(a -> script.append('\'').append(a.replace("'", "'\\''")).append("' "));
        script.append("2>&1\necho $? > '").append(tmp.resolve("exit.txt")).append("'\n");
        Files.writeString(tmp.resolve("chat.sh"), script);
        assertEquals(0, run("tmux", "-L", socket, "new-session", "-d", "-s", "chat", "-x", "160", "-y", "50",
                "sh " + tmp.resolve("chat.sh")).exit);
    }

    private void keys(String... keys) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket, "send-keys", "-t", "chat"));
        cmd.addAll(List.of(keys));
        assertEquals(0, run(cmd.toArray(String[]::new)).exit);
    }

    private String screen() throws Exception {
        return run("tmux", "-L", socket, "capture-pane", "-p", "-t", "chat", "-S", "-500").out;
    }

    private String awaitScreen(Predicate<String> until, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String s = "";
        while (System.nanoTime() < deadline) {
            s = screen();
            if (until.test(s)) {
                return s;
            }
            Thread.sleep(100);
        }
        fail("the screen never showed " + what + ":\n" + s);
        return s;
    }

    /** Lines that start with the prompt (capture-pane drops the space after it when nothing is typed). */
    private static int prompts(String screen) {
        return (int) screen.lines().filter(l -> l.startsWith(">>>")).count();
    }

    private int awaitExit() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(tmp.resolve("exit.txt")) || Files.readString(tmp.resolve("exit.txt")).isBlank()) {
            assertTrue(System.nanoTime() < deadline, "chat did not exit");
            Thread.sleep(100);
        }
        return Integer.parseInt(Files.readString(tmp.resolve("exit.txt")).strip());
    }

    /** An OpenAI-compatible server that streams "Hi there", or " tok" forever when asked for "forever". */
    private String startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/v1/chat/completions", this::answer);
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void answer(HttpExchange ex) throws IOException {
        try (ex) {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(body);
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            boolean forever = body.contains("forever");
            for (int i = 0; forever ? i < 6000 : i < 2; i++) {
                String piece = forever ? " tok" : i == 0 ? "Hi" : " there";
                out.write(("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + piece + "\"}}]}\n\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (forever) {
                    Thread.sleep(50);
                }
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aLocalModelAnswersInTheTerminalAndExitCleanly() throws Exception {
        Path store = tmp.resolve("model-store");
        TestModelFolder.llama().write(Files.createDirectories(store.resolve("tiny")));
        startChat("tiny", "--model-store", store.toString(), "--device", "cpu", "--max-tokens", "4");
        awaitScreen(s -> prompts(s) == 1, "the first prompt");

        keys("hello there", "Enter");
        String answered = awaitScreen(s -> prompts(s) == 2, "the prompt after the answer");
        assertFalse(answered.contains("error:"), answered);

        keys("/reset", "Enter");
        awaitScreen(s -> s.contains("(conversation forgotten)"), "/reset's answer");
        keys("/exit", "Enter");
        assertEquals(0, awaitExit());
    }

    @Test
    void againstAServerItKeepsTheHistoryAndCtrlCStopsOnlyTheAnswer() throws Exception {
        startChat("m", "--url", startServer() + "/v1");
        awaitScreen(s -> prompts(s) == 1, "the first prompt");

        keys("first question", "Enter");
        awaitScreen(s -> s.contains("Hi there") && prompts(s) == 2, "the streamed answer");
        keys("second question", "Enter");
        awaitScreen(s -> prompts(s) == 3, "the second answer");
        assertTrue(requests.get(1).contains("\"first question\"") && requests.get(1).contains("\"Hi there\"")
                && requests.get(1).contains("\"second question\""), "history sent: " + requests.get(1));

        keys("go on forever", "Enter");
        awaitScreen(s -> s.contains("tok tok tok"), "the long answer streaming");
        keys("C-c");
        awaitScreen(s -> s.contains("(stopped)") && prompts(s) == 4, "the answer stopped and a new prompt");

        keys("/reset", "Enter");
        keys("third question", "Enter");
        awaitScreen(s -> prompts(s) == 6, "the answer after /reset");
        String last = requests.get(requests.size() - 1);
        assertTrue(last.contains("third question") && !last.contains("first question") && !last.contains("forever"),
                "after /reset only the new question is sent: " + last);

        keys("/exit", "Enter");
        assertEquals(0, awaitExit());
    }
}
