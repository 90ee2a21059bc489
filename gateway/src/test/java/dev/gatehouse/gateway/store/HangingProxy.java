package dev.gatehouse.gateway.store;

import dev.gatehouse.gateway.config.StoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on a free loopback port in front of a database server that can stop answering the way a
 * stuck server or a black-holed network does: while {@link #hang hung}, connections stay open, bytes
 * sent are taken and nothing comes back, and new connections are accepted and never answered. The
 * relay holds what it took and passes it on once {@link #resume resumed}.
 */
public final class HangingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int upstreamPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private boolean hung; // guarded by gate

    public HangingProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("hanging-proxy-accept").start(this::acceptLoop);
    }

    /** {@code store} (a PostgreSQL URL on this machine) reached through this relay instead. */
    public StoreConfig inFrontOf(StoreConfig store) {
        String url = store.jdbcUrl().replaceFirst(":" + upstreamPort + "/", ":" + listener.getLocalPort() + "/");
        return StoreConfig.postgres(url, store.user(), store.password());
    }

    public void hang() {
        synchronized (gate) {
            hung = true;
        }
    }

    public void resume() {
        synchronized (gate) {
            hung = false;
            gate.notifyAll();
        }
    }

    private void awaitOpen() throws InterruptedException {
        synchronized (gate) {
            while (hung) {
                gate.wait();
            }
        }
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                sockets.add(client);
                Thread.ofPlatform().daemon().start(() -> relay(client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void relay(Socket client) {
        try {
            awaitOpen(); // a connection made while hung is accepted and left unanswered
            Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
            sockets.add(upstream);
            Thread.ofPlatform().daemon().start(() -> pump(upstream, client));
            pump(client, upstream);
        } catch (IOException | InterruptedException e) {
            close(client);
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                awaitOpen(); // while hung, bytes are taken and held
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // one side went away: the other goes too
        } finally {
            close(from);
            close(to);
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        resume();
        listener.close();
        sockets.forEach(HangingProxy::close);
    }
}
