package io.github.hunyuanvideo.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle interpreter that builds plain Java values and never runs code. It knows the binary opcodes of pickle
 * protocols 2 to 5 that {@code torch.save} emits for state dicts, and an allow-list of globals (ordered dicts, tensor
 * and parameter rebuild functions, typed storages, dtypes, {@code torch.Size}, sets). Any other global is refused
 * by name as soon as the pickle mentions it. The interpreter is iterative, never recurses into the values it
 * builds, and checks every length against the bytes that remain, so hostile input ends in
 * {@link CheckpointFormatException} rather than an error or a hang.
 *
 * <p>Python values map to: {@code str} → {@link String}, {@code int} → {@link Long} (or {@link BigInteger} beyond
 * 64 bits), {@code float} → {@link Double}, {@code bool} → {@link Boolean}, {@code None} → {@code null},
 * {@code bytes} → {@code byte[]}, {@code tuple}/{@code torch.Size} → {@link Tuple}, {@code list} →
 * {@link ArrayList}, {@code dict}/{@code OrderedDict} → {@link LinkedHashMap}, {@code set} → {@link Set}, tensor →
 * {@link TensorRef}.
 */
final class RestrictedUnpickler {
    /** Tensors of higher rank are refused. */
    static final int MAX_RANK = 64;
    private static final int MAX_GLOBAL_NAME = 512;
    private static final int MAX_KEY_DEPTH = 8;
    /**
     * Pushes plus memo entries a pickle may make. Every value reaches the heap through one of them, so this caps the
     * heap a small but hostile pickle can claim (about 100 bytes each at worst); torch.save spends about 30 per
     * tensor, so state dicts of over 200,000 tensors fit.
     */
    static final long MAX_OBJECTS = 8_000_000;
    private static final Tuple EMPTY_TUPLE = new Tuple(List.of());

    /** An immutable Python tuple. */
    record Tuple(List<Object> items) {
        Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }

        int size() {
            return items.size();
        }

        Object get(int i) {
            return items.get(i);
        }
    }

    /** A storage named by a persistent id: {@code elements} of {@code dtype} at file offset {@code dataOffset}. */
    record StorageRef(String key, DType dtype, long elements, long dataOffset) {
        long nbytes() {
            return elements * dtype.byteSize();
        }
    }

    /** A tensor: a strided view of {@code dtype} elements over a storage. */
    record TensorRef(StorageRef storage, DType dtype, long storageOffset, long[] shape, long[] strides) {
        /** Elements of {@code dtype} that fit the storage. */
        long storageElements() {
            return storage.nbytes() / dtype.byteSize();
        }
    }

    /** Resolves a persistent id (the tuple pickled by torch.save for each storage) to a {@link StorageRef}. */
    @FunctionalInterface
    interface PersistentLoader {
        StorageRef load(Tuple pid) throws CheckpointFormatException;
    }

    private enum Kind {
        ORDERED_DICT, SIZE, SET, FROZENSET, CODECS_ENCODE, REBUILD_TENSOR_V2, REBUILD_TENSOR_V3, REBUILD_PARAMETER,
        REBUILD_PARAMETER_WITH_STATE, REBUILD_FROM_TYPE_V2, TENSOR_TYPE, STORAGE_TYPE, DTYPE
    }

    /** An allowed global; {@code dtype} is set for storage types and dtypes. */
    record Global(String qualifiedName, Kind kind, DType dtype) {
        /** The element type of a storage class global, or {@code null} if this is not one. */
        DType storageDType() {
            return kind == Kind.STORAGE_TYPE ? dtype : null;
        }
    }

    private static final Map<String, Global> ALLOWED = allowed();

    private static Map<String, Global> allowed() {
        Map<String, Global> m = new HashMap<>();
        put(m, "collections.OrderedDict", Kind.ORDERED_DICT, null);
        put(m, "torch.Size", Kind.SIZE, null);
        for (String b : List.of("builtins", "__builtin__")) {
            put(m, b + ".set", Kind.SET, null);
            put(m, b + ".frozenset", Kind.FROZENSET, null);
        }
        put(m, "_codecs.encode", Kind.CODECS_ENCODE, null);
        put(m, "torch._utils._rebuild_tensor_v2", Kind.REBUILD_TENSOR_V2, null);
        put(m, "torch._utils._rebuild_tensor_v3", Kind.REBUILD_TENSOR_V3, null);
        put(m, "torch._utils._rebuild_parameter", Kind.REBUILD_PARAMETER, null);
        put(m, "torch._utils._rebuild_parameter_with_state", Kind.REBUILD_PARAMETER_WITH_STATE, null);
        put(m, "torch._tensor._rebuild_from_type_v2", Kind.REBUILD_FROM_TYPE_V2, null);
        put(m, "torch.Tensor", Kind.TENSOR_TYPE, null);
        put(m, "torch.nn.parameter.Parameter", Kind.TENSOR_TYPE, null);
        Object[][] storages = {
            {"Double", DType.F64}, {"Float", DType.F32}, {"Half", DType.F16}, {"BFloat16", DType.BF16},
            {"Float8_e4m3fn", DType.F8_E4M3}, {"Float8_e5m2", DType.F8_E5M2}, {"Long", DType.I64},
            {"Int", DType.I32}, {"Short", DType.I16}, {"Char", DType.I8}, {"Byte", DType.U8}, {"Bool", DType.BOOL}};
        for (Object[] s : storages) {
            put(m, "torch." + s[0] + "Storage", Kind.STORAGE_TYPE, (DType) s[1]);
        }
        // Untyped storages count bytes; the tensor's dtype comes from _rebuild_tensor_v3.
        put(m, "torch.storage.UntypedStorage", Kind.STORAGE_TYPE, DType.U8);
        put(m, "torch.UntypedStorage", Kind.STORAGE_TYPE, DType.U8);
        for (String d : List.of("float64", "double", "float32", "float", "float16", "half", "bfloat16",
                "float8_e4m3fn", "float8_e5m2", "int64", "long", "int32", "int", "int16", "short", "int8", "uint8",
                "bool")) {
            put(m, "torch." + d, Kind.DTYPE, DType.fromTorchName(d));
        }
        return Map.copyOf(m);
    }

    private static void put(Map<String, Global> m, String name, Kind kind, DType dtype) {
        m.put(name, new Global(name, kind, dtype));
    }

    private final Path file;
    private final byte[] data;
    private final PersistentLoader loader;
    private final ByteBuffer le;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markCount;
    private final Map<Long, Object> memo = new HashMap<>();
    private long objects;

    private RestrictedUnpickler(Path file, byte[] data, PersistentLoader loader) {
        this.file = file;
        this.data = data;
        this.loader = loader;
        this.le = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Interprets {@code data} and returns the pickled value.
     *
     * @param file   named in error messages
     * @param loader resolves persistent ids (torch storages)
     * @throws CheckpointFormatException if the pickle is malformed or mentions a global off the allow-list
     */
    static Object load(Path file, byte[] data, PersistentLoader loader) throws CheckpointFormatException {
        return new RestrictedUnpickler(file, data, loader).run();
    }

    private CheckpointFormatException error(String reason) {
        return new CheckpointFormatException(file, "pickle: " + reason + " (at byte " + pos + ")");
    }

    @SuppressWarnings("unchecked")
    private Object run() throws CheckpointFormatException {
        while (true) {
            if (pos >= data.length) {
                throw error("ends without STOP");
            }
            int opAt = pos;
            int op = data[pos++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto < 2 || proto > 5) {
                        throw error("unsupported protocol " + proto);
                    }
                }
                case 0x95 -> { // FRAME: a length hint only, checked and skipped
                    long len = le64();
                    if (len < 0 || len > data.length - pos) {
                        throw error("frame of " + len + " bytes exceeds the " + (data.length - pos) + " left");
                    }
                }
                case '.' -> { // STOP
                    Object result = pop();
                    if (!stack.isEmpty() || markCount != 0) {
                        throw error("STOP with " + stack.size() + " values left on the stack");
                    }
                    return result;
                }
                case '(' -> pushMark();
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(peek());
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) le32());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) u16());
                case 0x8a -> push(longBytes(u8()));
                case 0x8b -> {
                    int n = le32();
                    if (n < 0) {
                        throw error("negative LONG4 length");
                    }
                    push(longBytes(n));
                }
                case 'G' -> push(Double.longBitsToDouble(ByteBuffer.wrap(take(8)).getLong()));
                case 'X' -> push(utf8(len32u()));
                case 0x8d -> push(utf8(len64()));
                case 0x8c -> push(utf8(u8()));
                case 'T' -> {
                    int n = le32();
                    if (n < 0) {
                        throw error("negative BINSTRING length");
                    }
                    push(utf8(n));
                }
                case 'U' -> push(utf8(u8()));
                case 'B' -> push(take(len32u()));
                case 'C' -> push(take(u8()));
                case 0x8e, 0x96 -> push(take(len64()));
                case '}' -> push(new LinkedHashMap<Object, Object>());
                case ']' -> push(new ArrayList<Object>());
                case ')' -> push(EMPTY_TUPLE);
                case 0x8f -> push(new LinkedHashSet<Object>());
                case 'd' -> {
                    List<Object> items = popMark();
                    Map<Object, Object> d = new LinkedHashMap<>();
                    putAll(d, items);
                    push(d);
                }
                case 'l' -> push(new ArrayList<>(popMark()));
                case 't' -> push(new Tuple(popMark()));
                case 0x85 -> push(new Tuple(Collections.singletonList(pop())));
                case 0x86 -> {
                    Object b = pop();
                    Object a = pop();
                    push(new Tuple(Arrays.asList(a, b)));
                }
                case 0x87 -> {
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    push(new Tuple(Arrays.asList(a, b, c)));
                }
                case 0x91 -> {
                    Set<Object> s = new LinkedHashSet<>();
                    addAll(s, popMark());
                    push(Collections.unmodifiableSet(s));
                }
                case 's' -> {
                    Object v = pop();
                    Object k = pop();
                    putAll(dictOnTop("SETITEM"), Arrays.asList(k, v));
                }
                case 'u' -> {
                    List<Object> items = popMark();
                    putAll(dictOnTop("SETITEMS"), items);
                }
                case 'a' -> {
                    Object v = pop();
                    listOnTop("APPEND").add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    listOnTop("APPENDS").addAll(items);
                }
                case 0x90 -> {
                    List<Object> items = popMark();
                    if (!(peek() instanceof LinkedHashSet<?>)) {
                        throw error("ADDITEMS on " + typeName(peek()));
                    }
                    addAll((Set<Object>) peek(), items);
                }
                case 'q' -> memoPut(u8());
                case 'r' -> memoPut(len32uAsLong());
                case 0x94 -> memoPut(memo.size());
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(len32uAsLong()));
                case 'c' -> {
                    String module = line();
                    String name = line();
                    push(resolve(module, name));
                }
                case 0x93 -> {
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL needs two strings, got " + typeName(module) + " and "
                                + typeName(name));
                    }
                    push(resolve(m, n));
                }
                case 'R' -> {
                    Object args = pop();
                    Object callable = pop();
                    push(call(callable, args));
                }
                case 0x81 -> {
                    Object args = pop();
                    Object cls = pop();
                    push(construct(cls, args));
                }
                case 0x92 -> {
                    Object kwargs = pop();
                    Object args = pop();
                    Object cls = pop();
                    if (!(kwargs instanceof Map<?, ?> kw) || !kw.isEmpty()) {
                        throw error("NEWOBJ_EX with keyword arguments is not supported");
                    }
                    push(construct(cls, args));
                }
                case 'b' -> {
                    pop(); // the state: OrderedDict's instance __dict__ (e.g. state_dict()._metadata), unused
                    if (!(peek() instanceof Map<?, ?>)) {
                        throw error("BUILD on " + typeName(peek()) + " is not supported");
                    }
                }
                case 'Q' -> {
                    Object pid = pop();
                    if (!(pid instanceof Tuple t)) {
                        throw error("persistent id is a " + typeName(pid) + ", not a tuple");
                    }
                    push(loader.load(t));
                }
                case 'i' -> { // INST (protocol 0) instantiates a class directly: refused whatever it names
                    String module = line();
                    String name = line();
                    throw error("refusing global '" + printable(module + "." + name) + "' named by a protocol 0 "
                            + "INST opcode, nothing was executed");
                }
                case 0x82, 0x83, 0x84 -> throw error("refusing copyreg extension code (opcode EXT"
                        + (op == 0x82 ? 1 : op == 0x83 ? 2 : 4) + ")");
                default -> {
                    pos = opAt;
                    throw error(String.format("unsupported opcode 0x%02x", op));
                }
            }
        }
    }

    // ---- values built by allowed globals ----

    private Global resolve(String module, String name) throws CheckpointFormatException {
        String qualified = module + "." + name;
        Global g = ALLOWED.get(qualified);
        if (g == null) {
            throw refused(qualified);
        }
        return g;
    }

    private CheckpointFormatException refused(String qualified) {
        return error("refusing global '" + printable(qualified) + "': not a state-dict type, nothing was executed");
    }

    private Object call(Object callable, Object argsObj) throws CheckpointFormatException {
        if (!(callable instanceof Global g)) {
            throw error("REDUCE on a " + typeName(callable) + ", not an allowed global");
        }
        if (!(argsObj instanceof Tuple args)) {
            throw error("arguments of " + g.qualifiedName() + " are a " + typeName(argsObj) + ", not a tuple");
        }
        return switch (g.kind()) {
            case ORDERED_DICT, SIZE, SET, FROZENSET -> construct(g, args);
            case CODECS_ENCODE -> {
                if (args.size() != 2 || !(args.get(0) instanceof String s) || !(args.get(1) instanceof String enc)
                        || !(enc.equals("latin1") || enc.equals("latin-1"))) {
                    throw error("_codecs.encode supports only (str, 'latin1')");
                }
                yield s.getBytes(StandardCharsets.ISO_8859_1);
            }
            case REBUILD_TENSOR_V2 -> {
                arity(g, args, 6, 7);
                yield tensor(g, args, null);
            }
            case REBUILD_TENSOR_V3 -> {
                arity(g, args, 7, 8);
                if (!(args.get(6) instanceof Global d) || d.kind() != Kind.DTYPE) {
                    throw error(g.qualifiedName() + " needs a torch dtype as 7th argument, got "
                            + typeName(args.get(6)));
                }
                yield tensor(g, args, d.dtype());
            }
            case REBUILD_PARAMETER -> {
                arity(g, args, 3, 3);
                yield tensorArg(g, args.get(0));
            }
            case REBUILD_PARAMETER_WITH_STATE -> {
                arity(g, args, 4, 4);
                yield tensorArg(g, args.get(0));
            }
            case REBUILD_FROM_TYPE_V2 -> {
                arity(g, args, 4, 4);
                // Only the tensor rebuilds may be nested here, which keeps this call from recursing further.
                if (!(args.get(0) instanceof Global f) || (f.kind() != Kind.REBUILD_TENSOR_V2
                        && f.kind() != Kind.REBUILD_TENSOR_V3 && f.kind() != Kind.REBUILD_PARAMETER)) {
                    throw error(g.qualifiedName() + " may only wrap a tensor rebuild function");
                }
                if (!(args.get(1) instanceof Global t) || t.kind() != Kind.TENSOR_TYPE) {
                    throw error(g.qualifiedName() + " may only build torch.Tensor or Parameter");
                }
                yield call(f, args.get(2));
            }
            case TENSOR_TYPE, STORAGE_TYPE, DTYPE -> throw error("calling " + g.qualifiedName()
                    + " is not supported");
        };
    }

    private Object construct(Object clsObj, Object argsObj) throws CheckpointFormatException {
        if (!(clsObj instanceof Global g) || !(argsObj instanceof Tuple args)) {
            throw error("cannot construct a " + typeName(clsObj) + " from " + typeName(argsObj));
        }
        switch (g.kind()) {
            case ORDERED_DICT -> {
                if (args.size() != 0) {
                    throw error("OrderedDict with constructor arguments is not supported");
                }
                return new LinkedHashMap<Object, Object>();
            }
            case SIZE -> {
                if (args.size() != 1 || !(args.get(0) instanceof Tuple dims)) {
                    throw error("torch.Size needs one tuple argument");
                }
                for (Object d : dims.items()) {
                    if (!(d instanceof Long)) {
                        throw error("torch.Size holds a " + typeName(d));
                    }
                }
                return dims;
            }
            case SET, FROZENSET -> {
                Set<Object> s = new LinkedHashSet<>();
                if (args.size() == 1 && args.get(0) instanceof List<?> items) {
                    addAll(s, items);
                } else if (args.size() != 0) {
                    throw error(g.qualifiedName() + " needs no argument or one list");
                }
                return g.kind() == Kind.SET ? s : Collections.unmodifiableSet(s);
            }
            default -> throw error("cannot instantiate " + g.qualifiedName());
        }
    }

    /** A tensor over the storage in {@code args[0]}; {@code dtype} null means the storage's own type. */
    private TensorRef tensor(Global g, Tuple args, DType dtype) throws CheckpointFormatException {
        if (!(args.get(0) instanceof StorageRef storage)) {
            throw error(g.qualifiedName() + " needs a storage as first argument, got " + typeName(args.get(0)));
        }
        if (dtype == null) {
            dtype = storage.dtype();
        }
        if (!(args.get(1) instanceof Long offset)) {
            throw error(g.qualifiedName() + " needs an int storage offset, got " + typeName(args.get(1)));
        }
        long[] shape = longs(g, "size", args.get(2));
        long[] strides = longs(g, "stride", args.get(3));
        TensorRef t = new TensorRef(storage, dtype, offset, shape, strides);
        try {
            MappedFile.checkView(shape, strides, t.storageElements(), offset);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw error("tensor over storage '" + storage.key() + "': " + e.getMessage());
        }
        return t;
    }

    private long[] longs(Global g, String what, Object o) throws CheckpointFormatException {
        if (!(o instanceof Tuple t) || t.size() > MAX_RANK) {
            throw error(g.qualifiedName() + " needs a " + what + " tuple of at most " + MAX_RANK + " ints, got "
                    + typeName(o));
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.get(i) instanceof Long v)) {
                throw error(g.qualifiedName() + ": " + what + " holds a " + typeName(t.get(i)));
            }
            out[i] = v;
        }
        return out;
    }

    private TensorRef tensorArg(Global g, Object o) throws CheckpointFormatException {
        if (!(o instanceof TensorRef t)) {
            throw error(g.qualifiedName() + " needs a tensor, got " + typeName(o));
        }
        return t;
    }

    private void arity(Global g, Tuple args, int min, int max) throws CheckpointFormatException {
        if (args.size() < min || args.size() > max) {
            throw error(g.qualifiedName() + " takes " + min + (max > min ? ".." + max : "") + " arguments, got "
                    + args.size());
        }
    }

    // ---- containers ----

    private Map<Object, Object> dictOnTop(String op) throws CheckpointFormatException {
        Object top = peek();
        if (!(top instanceof LinkedHashMap<?, ?>)) {
            throw error(op + " on a " + typeName(top));
        }
        @SuppressWarnings("unchecked")
        Map<Object, Object> d = (Map<Object, Object>) top;
        return d;
    }

    private List<Object> listOnTop(String op) throws CheckpointFormatException {
        Object top = peek();
        if (!(top instanceof ArrayList<?>)) {
            throw error(op + " on a " + typeName(top));
        }
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) top;
        return l;
    }

    private void putAll(Map<Object, Object> d, List<Object> kv) throws CheckpointFormatException {
        if (kv.size() % 2 != 0) {
            throw error("odd number of items for a dict");
        }
        for (int i = 0; i < kv.size(); i += 2) {
            d.put(hashable(kv.get(i), 0), kv.get(i + 1));
        }
    }

    private void addAll(Set<Object> s, List<?> items) throws CheckpointFormatException {
        for (Object o : items) {
            s.add(hashable(o, 0));
        }
    }

    /**
     * Accepts only immutable scalar keys and shallow tuples of them, so hashing can neither recurse through a
     * self-referencing container nor depend on a value that changes later.
     */
    private Object hashable(Object o, int depth) throws CheckpointFormatException {
        if (o == null || o instanceof String || o instanceof Long || o instanceof BigInteger || o instanceof Double
                || o instanceof Boolean) {
            return o;
        }
        if (o instanceof Tuple t && depth < MAX_KEY_DEPTH) {
            for (Object item : t.items()) {
                hashable(item, depth + 1);
            }
            return o;
        }
        throw error("unsupported dict key or set element of type " + typeName(o));
    }

    // ---- stack ----

    private void push(Object o) throws CheckpointFormatException {
        count();
        stack.add(o);
    }

    private void count() throws CheckpointFormatException {
        if (++objects > MAX_OBJECTS) {
            throw error("builds more than " + MAX_OBJECTS + " values; refusing to go on");
        }
    }

    private void memoPut(long index) throws CheckpointFormatException {
        count();
        memo.put(index, peek());
    }

    private int base() {
        return markCount == 0 ? 0 : marks[markCount - 1];
    }

    private Object pop() throws CheckpointFormatException {
        if (stack.size() <= base()) {
            throw error("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws CheckpointFormatException {
        if (stack.size() <= base()) {
            throw error("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private void pushMark() throws CheckpointFormatException {
        count();
        if (markCount == marks.length) {
            marks = Arrays.copyOf(marks, marks.length * 2);
        }
        marks[markCount++] = stack.size();
    }

    private List<Object> popMark() throws CheckpointFormatException {
        if (markCount == 0) {
            throw error("no MARK to pop");
        }
        int at = marks[--markCount];
        List<Object> tail = stack.subList(at, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private Object memoGet(long index) throws CheckpointFormatException {
        if (!memo.containsKey(index)) {
            throw error("memo key " + index + " was never stored");
        }
        return memo.get(index);
    }

    // ---- reading, every length checked against what remains ----

    private void need(long n) throws CheckpointFormatException {
        if (n < 0 || n > data.length - pos) {
            throw error("a field of " + n + " bytes exceeds the " + (data.length - pos) + " bytes left");
        }
    }

    private int u8() throws CheckpointFormatException {
        need(1);
        return data[pos++] & 0xFF;
    }

    private int u16() throws CheckpointFormatException {
        need(2);
        int v = le.getShort(pos) & 0xFFFF;
        pos += 2;
        return v;
    }

    private int le32() throws CheckpointFormatException {
        need(4);
        int v = le.getInt(pos);
        pos += 4;
        return v;
    }

    private long len32uAsLong() throws CheckpointFormatException {
        return le32() & 0xFFFFFFFFL;
    }

    private int len32u() throws CheckpointFormatException {
        long n = len32uAsLong();
        need(n);
        return (int) n;
    }

    private long le64() throws CheckpointFormatException {
        need(8);
        long v = le.getLong(pos);
        pos += 8;
        return v;
    }

    private int len64() throws CheckpointFormatException {
        long n = le64();
        need(n);
        return (int) n;
    }

    private byte[] take(int n) throws CheckpointFormatException {
        need(n);
        byte[] out = Arrays.copyOfRange(data, pos, pos + n);
        pos += n;
        return out;
    }

    private String utf8(int n) throws CheckpointFormatException {
        need(n);
        String s = new String(data, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    /** A little-endian two's complement integer of {@code n} bytes (LONG1/LONG4). */
    private Object longBytes(int n) throws CheckpointFormatException {
        byte[] b = take(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = b[n - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** A newline-terminated ASCII line (GLOBAL / INST operands). */
    private String line() throws CheckpointFormatException {
        int end = pos;
        int limit = Math.min(data.length, pos + MAX_GLOBAL_NAME);
        while (end < limit && data[end] != '\n') {
            end++;
        }
        if (end >= limit) {
            throw error("global name is not newline-terminated within " + MAX_GLOBAL_NAME + " bytes");
        }
        String s = new String(data, pos, end - pos, StandardCharsets.UTF_8);
        pos = end + 1;
        return s;
    }

    // ---- messages that never print hostile values wholesale ----

    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Global g) {
            return "global " + g.qualifiedName();
        }
        if (o instanceof Tuple) {
            return "tuple";
        }
        if (o instanceof Map<?, ?>) {
            return "dict";
        }
        if (o instanceof List<?>) {
            return "list";
        }
        if (o instanceof Set<?>) {
            return "set";
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        if (o instanceof TensorRef) {
            return "tensor";
        }
        if (o instanceof StorageRef) {
            return "storage";
        }
        return o.getClass().getSimpleName();
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return b.toString();
    }
}
