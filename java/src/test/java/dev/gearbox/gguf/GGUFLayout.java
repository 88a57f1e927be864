package dev.gearbox.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test-side map of where each field of a well-formed GGUF sits, written independently of
 * {@link GGUFFile} so corruption tests can aim at a field without trusting the reader under test.
 */
final class GGUFLayout {
    record Kv(String key, long keyAt, long typeAt, long valueAt, int type) {}
    record Tensor(String name, long nameAt, long nDimsAt, long[] dimAt, long typeAt, long offsetAt) {}

    final Map<String, Kv> kvs = new LinkedHashMap<>();
    final List<Tensor> tensors = new ArrayList<>();
    final long tensorInfosAt;
    final long headerEnd;

    private final ByteBuffer b;

    GGUFLayout(byte[] file) {
        b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        b.position(8);
        long nt = b.getLong(), nk = b.getLong();
        for (long i = 0; i < nk; i++) {
            long keyAt = b.position();
            String k = str();
            long typeAt = b.position();
            int t = b.getInt();
            long valueAt = b.position();
            skip(t);
            kvs.put(k, new Kv(k, keyAt, typeAt, valueAt, t));
        }
        tensorInfosAt = b.position();
        for (long i = 0; i < nt; i++) {
            long nameAt = b.position();
            String n = str();
            long nDimsAt = b.position();
            int nd = b.getInt();
            long[] dimAt = new long[nd];
            for (int d = 0; d < nd; d++) { dimAt[d] = b.position(); b.getLong(); }
            long typeAt = b.position();
            b.getInt();
            long offsetAt = b.position();
            b.getLong();
            tensors.add(new Tensor(n, nameAt, nDimsAt, dimAt, typeAt, offsetAt));
        }
        headerEnd = b.position();
    }

    Tensor tensor(String name) {
        return tensors.stream().filter(t -> t.name.equals(name)).findFirst().orElseThrow();
    }

    private String str() {
        int n = (int) b.getLong();
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private void skip(int t) {
        switch (t) {
            case 0, 1, 7 -> b.get();
            case 2, 3 -> b.getShort();
            case 4, 5, 6 -> b.getInt();
            case 10, 11, 12 -> b.getLong();
            case 8 -> str();
            case 9 -> {
                int et = b.getInt();
                long n = b.getLong();
                for (long i = 0; i < n; i++) skip(et);
            }
            default -> throw new IllegalStateException("type " + t);
        }
    }
}
