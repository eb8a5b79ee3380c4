package dev.readsplit.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.ArrayList;
import java.util.List;

/**
 * Notes whether SIGINT or SIGTERM stopped the demo, so that its last lines say which ("Stopping (SIGTERM) ..."
 * rather than "Ctrl-C" for a {@code kill}). Each handler records the signal and passes it on to the handler it
 * replaced (the JVM's, which runs the shutdown hooks and exits with 128 + the signal's number), so the JVM's
 * behaviour and exit codes are unchanged. {@link #uninstall} puts the previous handlers back. Uses
 * {@code sun.misc.Signal} (module {@code jdk.unsupported}): the JDK has no supported API that tells which signal
 * started the shutdown; where it is unavailable the message says "a signal".
 */
final class StopSignal {

    private volatile String received;
    private final List<Runnable> undo = new ArrayList<>();

    private StopSignal() {
    }

    static StopSignal install() {
        StopSignal s = new StopSignal();
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal signal = new Signal(name);
                SignalHandler[] previous = new SignalHandler[1];
                previous[0] = Signal.handle(signal, sig -> {
                    s.received = "SIG" + sig.getName();
                    previous[0].handle(sig);
                });
                if (previous[0] == SignalHandler.SIG_DFL || previous[0] == SignalHandler.SIG_IGN) {
                    Signal.handle(signal, previous[0]); // the JVM runs with -Xrs or the signal is ignored: leave it
                    continue;
                }
                s.undo.add(() -> Signal.handle(signal, previous[0]));
            } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
                // this JVM or OS does not let us watch the signal: the message is less precise, nothing else changes
            }
        }
        return s;
    }

    /** {@code SIGINT, Ctrl-C}, {@code SIGTERM}, or {@code a signal} when it was not seen. */
    String describe() {
        String r = received;
        if (r == null) {
            return "a signal";
        }
        return r.equals("SIGINT") ? "SIGINT, Ctrl-C" : r;
    }

    void uninstall() {
        for (Runnable r : undo) {
            try {
                r.run();
            } catch (IllegalArgumentException e) {
                // already shutting down
            }
        }
        undo.clear();
    }
}
