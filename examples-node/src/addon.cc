// Node-API binding of libeve: thin wrappers over the C ABI in include/eve.h.
//
// Three wrapped classes hold eve's opaque handles:
//   Slab  - an eve_slab handle (any thread may use it; each JS thread opens its own)
//   Read  - an eve_read handle (belongs to the JS thread that began it)
//   Iter  - an eve_iter handle opened from a Read
//
// DaoDB (the datom database in a slab): Slab gains database/transactEdn/basisT and
// _waitForTransaction, Read gains ident/_datoms/log. A datom query opens an eve_cursor,
// drains it in batches of 256 (eve_cursor_next) and closes it within one native call, so no
// cursor outlives a call; the bytes of string/keyword/symbol/bytes/uuid values (valid only
// until the next eve_cursor_next) are copied into JS strings and Buffers at once. Queries
// and pulls (_query, pull) take eve's answer (eve_db_query_answer, eve_db_pull_answer),
// read its node array once (eve_answer_nodes), build the JS values from it in C++ and free
// it (eve_answer_free) on every way out; _queryEdn and pullEdn return eve's EDN text.
//
// Yin (programs run as agents that park and resume): an `addon.yin` object of functions over
// an eve_yin handle held by JS as a BigInt token (see the Yin section); index.js wraps
// them in its Yin class.
//
// Zero copy: values (and iterator keys) come back as Buffers over external memory that
// points straight into the slab mapping. Each Read (and Iter) remembers every ArrayBuffer
// it handed out; when the read ends (or the iterator closes, or the Read is garbage
// collected) they are detached (napi_detach_arraybuffer), so a Buffer kept past the end of
// its read has length 0 instead of pointing at memory eve may have freed and reused.
//
// Every failing eve_status becomes a JS error (the EveError class the JS layer registers,
// a plain Error before that) with `code` = eve_status_name(status), `status` = the number
// and message = eve_last_error_message(). Bad argument types throw TypeError.

#include <napi.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "eve.h"

namespace {

class Slab;
class Read;
class Iter;

// A non-NULL address for zero-length keys and values (eve wants a pointer even when len 0).
const uint8_t kEmpty[1] = {0};

// Guards the wrapped classes' constructors: only the addon may create them.
int kConstructToken = 0;

// ---------------------------------------------------------------------------------------
// Per-environment data (one per main thread or worker thread that loads the addon).

class EveAddon : public Napi::Addon<EveAddon> {
 public:
  EveAddon(Napi::Env env, Napi::Object exports);

  Napi::FunctionReference slab_ctor;
  Napi::FunctionReference read_ctor;
  Napi::FunctionReference iter_ctor;
  Napi::FunctionReference error_class;
  // The JS classes of EDN keywords and symbols in answers (index.js registers them).
  Napi::FunctionReference keyword_class;
  Napi::FunctionReference symbol_class;

 private:
  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value OpenAnonymous(const Napi::CallbackInfo& info);
  Napi::Value Version(const Napi::CallbackInfo& info);
  Napi::Value StatusName(const Napi::CallbackInfo& info);
  Napi::Value SetErrorClass(const Napi::CallbackInfo& info);
  Napi::Value SetValueClasses(const Napi::CallbackInfo& info);
  Napi::Value BufferAddress(const Napi::CallbackInfo& info);
};

EveAddon* AddonOf(Napi::Env env) { return env.GetInstanceData<EveAddon>(); }

// ---------------------------------------------------------------------------------------
// Errors.

Napi::Error MakeEveError(Napi::Env env, int32_t status, std::string message) {
  const char* name = eve_status_name(status);
  if (message.empty()) message = name;
  EveAddon* addon = AddonOf(env);
  if (addon != nullptr && !addon->error_class.IsEmpty()) {
    Napi::Object err = addon->error_class.New(
        {Napi::String::New(env, message), Napi::String::New(env, name), Napi::Number::New(env, status)});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, name));
  err.Set("status", Napi::Number::New(env, status));
  return err;
}

// Throws the error for a failed eve call made on this thread just now.
[[noreturn]] void ThrowEve(Napi::Env env, eve_status status) {
  std::string message = eve_last_error_message();  // copy before any other eve call
  throw MakeEveError(env, status, std::move(message));
}

inline void Check(Napi::Env env, eve_status status) {
  if (status != EVE_OK) ThrowEve(env, status);
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

// ---------------------------------------------------------------------------------------
// Argument conversion.

uint32_t ArgIndex(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) ThrowType(info.Env(), std::string(what) + " must be a root index (a number)");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || std::floor(d) != d)
    ThrowRange(info.Env(), std::string(what) + " must be an integer in 0..2^32-1");
  return static_cast<uint32_t>(d);
}

// A number that is an integer in 0..max (`range` names the range in the error).
uint32_t ToU32UpTo(Napi::Env env, Napi::Value v, const char* what, double max, const char* range) {
  if (!v.IsNumber()) ThrowType(env, std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max) || std::floor(d) != d)
    ThrowRange(env, std::string(what) + " must be an integer in " + range);
  return static_cast<uint32_t>(d);
}

uint64_t ToU64(Napi::Env env, Napi::Value v, const char* what) {
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) ThrowRange(env, std::string(what) + " must be in 0..2^64-1");
    return x;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= 9007199254740991.0) || std::floor(d) != d)
      ThrowRange(env, std::string(what) + " must be a non-negative safe integer (or a BigInt)");
    return static_cast<uint64_t>(d);
  }
  ThrowType(env, std::string(what) + " must be a BigInt or a number");
}

std::string ArgName(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsString()) ThrowType(info.Env(), std::string(what) + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) ThrowType(info.Env(), std::string(what) + " must not contain NUL");
  return s;
}

// Views `v` (a Buffer / TypedArray / DataView / ArrayBuffer, or a string as UTF-8) as
// bytes. A string is converted into `slot`, which must stay alive and unmoved while `out`
// is used. Returns false for other types.
bool ToBytes(napi_env env, napi_value v, std::string& slot, eve_bytes& out) {
  bool is = false;
  void* data = nullptr;
  size_t len = 0;
  napi_valuetype type;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type ta_type;
    size_t length = 0;
    if (napi_get_typedarray_info(env, v, &ta_type, &length, &data, nullptr, nullptr) != napi_ok) return false;
    size_t elem = 1;
    switch (ta_type) {
      case napi_int16_array:
      case napi_uint16_array:
        elem = 2;
        break;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array:
        elem = 4;
        break;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array:
        elem = 8;
        break;
      default:
        elem = 1;
    }
    len = length * elem;
  } else if (napi_typeof(env, v, &type) == napi_ok && type == napi_string) {
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, nullptr, 0, &n) != napi_ok) return false;
    slot.assign(n, '\0');
    if (napi_get_value_string_utf8(env, v, &slot[0], n + 1, &n) != napi_ok) return false;
    data = &slot[0];
    len = n;
  } else if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    if (napi_get_arraybuffer_info(env, v, &data, &len) != napi_ok) return false;
  } else if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    if (napi_get_dataview_info(env, v, &len, &data, nullptr, nullptr) != napi_ok) return false;
  } else {
    return false;
  }
  out.data = (len == 0 || data == nullptr) ? kEmpty : static_cast<const uint8_t*>(data);
  out.len = len;
  return true;
}

void ArgBytes(Napi::Env env, Napi::Value v, std::string& slot, eve_bytes& out, const char* what) {
  if (!ToBytes(env, v, slot, out))
    ThrowType(env, std::string(what) + " must be a Buffer, TypedArray, DataView, ArrayBuffer or string");
}

// ---------------------------------------------------------------------------------------
// Zero-copy buffers and their detachment.

// Remembers the ArrayBuffers of the Buffers handed out so that they can all be detached at
// once. They are kept in a JS array held by one strong reference: far cheaper than a weak
// reference per Buffer, at the price of keeping them alive until the read ends (reads are
// meant to be short).
class Tracker {
 public:
  void Add(napi_env env, napi_value ab) {
    napi_value array;
    if (array_ == nullptr) {
      if (napi_create_array(env, &array) != napi_ok || napi_create_reference(env, array, 1, &array_) != napi_ok)
        throw Napi::Error::New(env, "cannot track the Buffers of a read");
    } else if (napi_get_reference_value(env, array_, &array) != napi_ok) {
      throw Napi::Error::New(env, "cannot track the Buffers of a read");
    }
    if (napi_set_element(env, array, count_, ab) != napi_ok) throw Napi::Error::New(env, "cannot track a Buffer");
    count_++;
  }

  // Detaches every tracked ArrayBuffer and forgets them. Safe in finalizers: it ignores
  // failures and throws nothing.
  void DetachAll(napi_env env) noexcept {
    if (array_ == nullptr) return;
    napi_handle_scope scope = nullptr;
    bool scoped = napi_open_handle_scope(env, &scope) == napi_ok;
    napi_value array = nullptr;
    if (napi_get_reference_value(env, array_, &array) == napi_ok && array != nullptr) {
      for (uint32_t i = 0; i < count_; i++) {
        napi_value ab = nullptr;
        if (napi_get_element(env, array, i, &ab) == napi_ok && ab != nullptr) napi_detach_arraybuffer(env, ab);
      }
    }
    napi_delete_reference(env, array_);
    array_ = nullptr;
    count_ = 0;
    if (scoped) napi_close_handle_scope(env, scope);
  }

 private:
  napi_ref array_ = nullptr;
  uint32_t count_ = 0;
};

// Wraps slab bytes in a Buffer without copying (external memory, no finalizer: the memory
// belongs to the slab) and tracks its ArrayBuffer. Returns undefined for an absent value
// (data == NULL).
napi_value ViewBytes(napi_env env, const eve_bytes& b, Tracker& track) {
  napi_value result;
  if (b.data == nullptr) {
    napi_get_undefined(env, &result);
    return result;
  }
  napi_status s = napi_create_external_buffer(env, b.len, const_cast<uint8_t*>(b.data), nullptr, nullptr, &result);
  if (s != napi_ok) throw Napi::Error::New(env, "cannot create an external Buffer over slab memory");
  napi_value ab;
  if (napi_get_typedarray_info(env, result, nullptr, nullptr, nullptr, &ab, nullptr) != napi_ok)
    throw Napi::Error::New(env, "cannot get the ArrayBuffer of an external Buffer");
  track.Add(env, ab);
  return result;
}

// ---------------------------------------------------------------------------------------
// Slab.

class Slab : public Napi::ObjectWrap<Slab> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Slab(const Napi::CallbackInfo& info);
  ~Slab() override;

  eve_slab* handle() const { return slab_; }
  void Attach(eve_slab* slab) { slab_ = slab; }
  void ForgetRead(Read* r);

 private:
  friend class Read;

  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value Map(const Napi::CallbackInfo& info);
  Napi::Value Root(const Napi::CallbackInfo& info);
  Napi::Value FindRoot(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value CompareExchange(const Napi::CallbackInfo& info);
  Napi::Value Transact(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Reclaim(const Napi::CallbackInfo& info);
  Napi::Value Recover(const Napi::CallbackInfo& info);
  Napi::Value CheckSlab(const Napi::CallbackInfo& info);
  Napi::Value IsReadOnly(const Napi::CallbackInfo& info);
  Napi::Value BeginRead(const Napi::CallbackInfo& info);
  Napi::Value WaitForChange(const Napi::CallbackInfo& info);
  Napi::Value Database(const Napi::CallbackInfo& info);
  Napi::Value TransactEdn(const Napi::CallbackInfo& info);
  Napi::Value BasisT(const Napi::CallbackInfo& info);
  Napi::Value WaitForTransaction(const Napi::CallbackInfo& info);

  eve_slab* slab_ = nullptr;
  bool closed_ = false;
  std::vector<Read*> reads_;  // reads begun from this handle and not yet ended
};

// ---------------------------------------------------------------------------------------
// Read.

class Read : public Napi::ObjectWrap<Read> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Read(const Napi::CallbackInfo& info);
  ~Read() override;

  void Attach(eve_read* read, Slab* slab, Napi::Object slab_obj) {
    read_ = read;
    slab_ = slab;
    slab_ref_ = Napi::Persistent(slab_obj);
    slab->reads_.push_back(this);
  }
  // Ends the read however it can (finalizers, the slab going away); throws nothing.
  void ForceEnd(napi_env env);
  void ForgetIter(Iter* it);

 private:
  Napi::Value Get(const Napi::CallbackInfo& info);
  Napi::Value GetMany(const Napi::CallbackInfo& info);
  Napi::Value Count(const Napi::CallbackInfo& info);
  Napi::Value Iterate(const Napi::CallbackInfo& info);
  Napi::Value End(const Napi::CallbackInfo& info);
  Napi::Value GetInto(const Napi::CallbackInfo& info);
  Napi::Value Ended(const Napi::CallbackInfo& info);
  Napi::Value Ident(const Napi::CallbackInfo& info);
  Napi::Value Entity(const Napi::CallbackInfo& info);
  Napi::Value QueryEdn(const Napi::CallbackInfo& info);
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value PullEdn(const Napi::CallbackInfo& info);
  Napi::Value Pull(const Napi::CallbackInfo& info);
  Napi::Value Datoms(const Napi::CallbackInfo& info);
  Napi::Value Log(const Napi::CallbackInfo& info);
  void CloseIters(napi_env env);
  void Detach(napi_env env);

  eve_read* read_ = nullptr;
  bool ended_ = false;
  Slab* slab_ = nullptr;
  Napi::ObjectReference slab_ref_;
  Tracker buffers_;  // the ArrayBuffers handed out
  struct OpenIter {
    Iter* iter;
    napi_ref ref;  // strong: keeps the iterator (and so its buffers) valid until the read ends
  };
  std::vector<OpenIter> iters_;
  std::vector<eve_bytes> keys_scratch_, values_scratch_;
  std::vector<std::string> strings_scratch_;
};

// ---------------------------------------------------------------------------------------
// Iter.

class Iter : public Napi::ObjectWrap<Iter> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Iter(const Napi::CallbackInfo& info);
  ~Iter() override;

  void Attach(eve_iter* iter, Read* owner) {
    iter_ = iter;
    owner_ = owner;
  }
  // Closes the iterator and detaches its buffers; throws nothing. Called by the read.
  void ForceClose(napi_env env);
  void Orphan() { owner_ = nullptr; }

 private:
  Napi::Value Next(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);

  eve_iter* iter_ = nullptr;
  bool closed_ = false;
  Read* owner_ = nullptr;
  Tracker buffers_;
  std::vector<eve_bytes> keys_, values_;
};

// ---------------------------------------------------------------------------------------
// Slab implementation.

Napi::Function Slab::Define(Napi::Env env) {
  return DefineClass(env, "Slab",
                     {
                         InstanceMethod<&Slab::Close>("close"),
                         InstanceAccessor<&Slab::Closed>("closed"),
                         InstanceMethod<&Slab::Map>("map"),
                         InstanceMethod<&Slab::Root>("root"),
                         InstanceMethod<&Slab::FindRoot>("findRoot"),
                         InstanceMethod<&Slab::Load>("load"),
                         InstanceMethod<&Slab::CompareExchange>("compareExchange"),
                         InstanceMethod<&Slab::Transact>("transact"),
                         InstanceMethod<&Slab::Stats>("stats"),
                         InstanceMethod<&Slab::Reclaim>("reclaim"),
                         InstanceMethod<&Slab::Recover>("recover"),
                         InstanceMethod<&Slab::CheckSlab>("check"),
                         InstanceMethod<&Slab::IsReadOnly>("isReadOnly"),
                         InstanceMethod<&Slab::BeginRead>("read"),
                         InstanceMethod<&Slab::WaitForChange>("_waitForChange"),
                         InstanceMethod<&Slab::Database>("database"),
                         InstanceMethod<&Slab::TransactEdn>("transactEdn"),
                         InstanceMethod<&Slab::BasisT>("basisT"),
                         InstanceMethod<&Slab::WaitForTransaction>("_waitForTransaction"),
                     });
}

Slab::Slab(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Slab>(info) {
  if (info.Length() < 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &kConstructToken)
    ThrowType(info.Env(), "Slab cannot be constructed directly: use open() or openAnonymous()");
}

Slab::~Slab() {
  // Garbage collected (or the environment is going away) without close(): end what is
  // still open on this thread, then close. Nothing here may throw.
  napi_env env = Env();
  std::vector<Read*> reads = reads_;
  for (Read* r : reads) r->ForceEnd(env);
  reads_.clear();
  if (!closed_ && slab_ != nullptr) eve_slab_close(slab_);  // BUSY only if a wait is in flight
}

void Slab::ForgetRead(Read* r) {
  for (size_t i = 0; i < reads_.size(); i++) {
    if (reads_[i] == r) {
      reads_.erase(reads_.begin() + i);
      return;
    }
  }
}

Napi::Value Slab::Close(const Napi::CallbackInfo& info) {
  Check(info.Env(), eve_slab_close(slab_));
  closed_ = true;
  return info.Env().Undefined();
}

Napi::Value Slab::Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

Napi::Value Slab::Map(const Napi::CallbackInfo& info) {
  std::string name = ArgName(info, 0, "map name");
  uint32_t index = 0;
  Check(info.Env(), eve_map_open(slab_, name.c_str(), &index));
  return Napi::Number::New(info.Env(), index);
}

Napi::Value Slab::Root(const Napi::CallbackInfo& info) {
  std::string name = ArgName(info, 0, "root name");
  uint32_t index = 0;
  Check(info.Env(), eve_root_open(slab_, name.c_str(), &index));
  return Napi::Number::New(info.Env(), index);
}

Napi::Value Slab::FindRoot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgName(info, 0, "root name");
  uint32_t index = 0;
  eve_root_kind kind = EVE_ROOT_RAW;
  eve_status s = eve_root_find(slab_, name.c_str(), &index, &kind);
  if (s == EVE_ERR_NOT_FOUND) return env.Undefined();
  Check(env, s);
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, index));
  const char* k = kind == EVE_ROOT_MAP     ? "map"
                  : kind == EVE_ROOT_SET   ? "set"
                  : kind == EVE_ROOT_BTREE ? "btree"
                  : kind == EVE_ROOT_DATABASE ? "database"
                                           : "raw";
  out.Set("kind", Napi::String::New(env, k));
  return out;
}

Napi::Value Slab::Load(const Napi::CallbackInfo& info) {
  uint32_t root = ArgIndex(info, 0, "root");
  uint64_t value = 0;
  Check(info.Env(), eve_root_load(slab_, root, &value));
  return Napi::BigInt::New(info.Env(), value);
}

Napi::Value Slab::CompareExchange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t root = ArgIndex(info, 0, "root");
  uint64_t expected = ToU64(env, info[1], "expected");
  uint64_t desired = ToU64(env, info[2], "desired");
  uint64_t actual = 0;
  Check(env, eve_root_compare_exchange(slab_, root, expected, desired, &actual));
  return Napi::BigInt::New(env, actual);
}

// transact(map, ops): ops is an array whose elements are
//   {put: key, value: value} | {remove: key}        (object form)
//   [key, value]                                    (compact put)
//   [key] | [key, null] | [key, undefined]          (compact remove)
Napi::Value Slab::Transact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t map = ArgIndex(info, 0, "map");
  if (!info[1].IsArray()) ThrowType(env, "ops must be an array of {put, value} / {remove} / [key, value] entries");
  Napi::Array ops = info[1].As<Napi::Array>();
  uint32_t n = ops.Length();
  std::vector<eve_op> batch(n);
  std::vector<std::string> store(2 * static_cast<size_t>(n));  // never resized: slots stay put
  for (uint32_t i = 0; i < n; i++) {
    std::string& key_slot = store[2 * i];
    std::string& value_slot = store[2 * i + 1];
    Napi::HandleScope scope(env);
    Napi::Value op = ops.Get(i);
    eve_op& o = batch[i];
    std::string where = "ops[" + std::to_string(i) + "]";
    if (op.IsArray()) {
      Napi::Array pair = op.As<Napi::Array>();
      uint32_t len = pair.Length();
      if (len < 1 || len > 2) ThrowType(env, where + " must be [key, value] or [key]");
      ArgBytes(env, pair.Get(0u), key_slot, o.key, (where + "[0] (key)").c_str());
      Napi::Value value = len == 2 ? pair.Get(1u) : env.Undefined();
      if (value.IsUndefined() || value.IsNull()) {
        o.kind = EVE_OP_REMOVE;
        o.value = {nullptr, 0};
      } else {
        o.kind = EVE_OP_PUT;
        ArgBytes(env, value, value_slot, o.value, (where + "[1] (value)").c_str());
      }
    } else if (op.IsObject()) {
      Napi::Object obj = op.As<Napi::Object>();
      Napi::Value put = obj.Get("put");
      if (!put.IsUndefined()) {
        o.kind = EVE_OP_PUT;
        ArgBytes(env, put, key_slot, o.key, (where + ".put (key)").c_str());
        Napi::Value value = obj.Get("value");
        ArgBytes(env, value, value_slot, o.value, (where + ".value").c_str());
      } else {
        Napi::Value remove = obj.Get("remove");
        if (remove.IsUndefined()) ThrowType(env, where + " must have a put or a remove key");
        o.kind = EVE_OP_REMOVE;
        ArgBytes(env, remove, key_slot, o.key, (where + ".remove (key)").c_str());
        o.value = {nullptr, 0};
      }
    } else {
      ThrowType(env, where + " must be an object {put, value} / {remove} or an array [key, value]");
    }
  }
  eve_commit commit{};
  Check(env, eve_map_transact(slab_, map, n ? batch.data() : nullptr, n, &commit));
  Napi::Object out = Napi::Object::New(env);
  out.Set("root", Napi::BigInt::New(env, commit.root));
  out.Set("retries", Napi::Number::New(env, static_cast<double>(commit.retries)));
  out.Set("changed", Napi::Boolean::New(env, commit.changed));
  return out;
}

Napi::Value Slab::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  eve_stats s{};
  Check(env, eve_slab_stats(slab_, &s));
  Napi::Object out = Napi::Object::New(env);
  auto num = [&](const char* name, uint64_t v) { out.Set(name, Napi::Number::New(env, static_cast<double>(v))); };
  num("fileLen", s.file_len);
  num("heapBytes", s.heap_bytes);
  num("bytesInUse", s.bytes_in_use);
  num("blocksInUse", s.blocks_in_use);
  num("freeBytes", s.free_bytes);
  num("liveReaders", s.live_readers);
  num("oldestPinnedEpoch", s.oldest_pinned_epoch);
  num("globalEpoch", s.global_epoch);
  num("retiredBlocks", s.retired_blocks);
  num("readerSlots", s.reader_slots);
  num("roots", s.roots);
  num("sweeps", s.sweeps);
  num("maxSize", s.max_size);
  num("rolledBackRoots", s.rolled_back_roots);
  return out;
}

Napi::Value Slab::Reclaim(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  eve_reclaim_report r{};
  Check(env, eve_slab_reclaim(slab_, &r));
  Napi::Object out = Napi::Object::New(env);
  out.Set("freedBlocks", Napi::Number::New(env, static_cast<double>(r.freed_blocks)));
  out.Set("keptBlocks", Napi::Number::New(env, static_cast<double>(r.kept_blocks)));
  return out;
}

Napi::Value Slab::Recover(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  eve_sweep_report r{};
  Check(env, eve_slab_recover(slab_, &r));
  Napi::Object out = Napi::Object::New(env);
  out.Set("liveBlocks", Napi::Number::New(env, static_cast<double>(r.live_blocks)));
  out.Set("liveBytes", Napi::Number::New(env, static_cast<double>(r.live_bytes)));
  out.Set("freedBlocks", Napi::Number::New(env, static_cast<double>(r.freed_blocks)));
  out.Set("freedBytes", Napi::Number::New(env, static_cast<double>(r.freed_bytes)));
  out.Set("rolledBackRoots", Napi::Number::New(env, static_cast<double>(r.rolled_back_roots)));
  return out;
}

Napi::Value Slab::CheckSlab(const Napi::CallbackInfo& info) {
  uint64_t reachable = 0;
  Check(info.Env(), eve_slab_check(slab_, &reachable));
  return Napi::Number::New(info.Env(), static_cast<double>(reachable));
}

Napi::Value Slab::IsReadOnly(const Napi::CallbackInfo& info) {
  bool ro = false;
  Check(info.Env(), eve_slab_is_read_only(slab_, &ro));
  return Napi::Boolean::New(info.Env(), ro);
}

Napi::Value Slab::BeginRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  eve_read* read = nullptr;
  Check(env, eve_read_begin(slab_, &read));
  Napi::Object obj;
  try {
    obj = AddonOf(env)->read_ctor.New({Napi::External<int>::New(env, &kConstructToken)});
  } catch (...) {
    eve_read_end(read);
    throw;
  }
  Read::Unwrap(obj)->Attach(read, this, Value());
  return obj;
}

// Runs a blocking eve wait (eve_root_wait, eve_db_wait) on the libuv threadpool and
// settles a promise with the value it stored, on the JS thread.
class WaitWorker : public Napi::AsyncWorker {
 public:
  using Wait = std::function<eve_status(uint64_t*)>;
  // How the value reaches JS: root words as BigInt, transaction numbers as Number.
  enum class As { BigInt, Number };

  WaitWorker(Napi::Env env, const char* name, Napi::Object slab_obj, Wait wait, As as)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        slab_ref_(Napi::Persistent(slab_obj)),
        wait_(std::move(wait)),
        as_(as) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    status_ = wait_(&value_);
    if (status_ != EVE_OK) message_ = eve_last_error_message();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status_ != EVE_OK) {
      deferred_.Reject(MakeEveError(env, status_, message_).Value());
    } else if (as_ == As::BigInt) {
      deferred_.Resolve(Napi::BigInt::New(env, value_));
    } else {
      deferred_.Resolve(Napi::Number::New(env, static_cast<double>(value_)));
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference slab_ref_;  // keeps the Slab (and its handle) alive while waiting
  Wait wait_;
  As as_;
  uint64_t value_ = 0;
  eve_status status_ = EVE_OK;
  std::string message_;
};

// A timeout in milliseconds for eve: undefined, negative or infinite gives -1 (for ever).
int64_t ArgTimeout(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (info[i].IsUndefined()) return -1;
  if (!info[i].IsNumber()) ThrowType(env, "timeoutMs must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (std::isnan(d)) ThrowRange(env, "timeoutMs must not be NaN");
  if (d < 0 || d >= 9.2e18) return -1;
  return static_cast<int64_t>(std::ceil(d));
}

// _waitForChange(root, seen, timeoutMs): timeoutMs < 0, Infinity or undefined waits for ever.
Napi::Value Slab::WaitForChange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t root = ArgIndex(info, 0, "root");
  uint64_t seen = ToU64(env, info[1], "seen");
  int64_t timeout = ArgTimeout(info, 2);
  eve_slab* slab = slab_;
  WaitWorker* w = new WaitWorker(
      env, "eve:waitForChange", Value(),
      [slab, root, seen, timeout](uint64_t* value) { return eve_root_wait(slab, root, seen, timeout, value); },
      WaitWorker::As::BigInt);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}


// ---------------------------------------------------------------------------------------
// DaoDB on the Slab.

// A number for an entity id, t or count (all far below 2^53 in practice).
inline Napi::Number Num(Napi::Env env, uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }

// database(name): the root index of the database `name`, created empty if missing.
Napi::Value Slab::Database(const Napi::CallbackInfo& info) {
  std::string name = ArgName(info, 0, "database name");
  uint32_t index = 0;
  Check(info.Env(), eve_db_open(slab_, name.c_str(), &index));
  return Napi::Number::New(info.Env(), index);
}

// Appends the UTF-8 encoding of code point `cp` to `out`.
void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Parses eve's tempid map (`{"ada" 1048576, "-1" 1048577}`: string keys escaped like
// Rust's Debug, `\"`, `\\`, `\n`, `\r`, `\t`, `\0`, `\'`, `\u{1F600}`) into a JS object
// whose properties are own data properties (even one called "__proto__").
Napi::Object ParseTempids(Napi::Env env, const char* text) {
  Napi::Object out = Napi::Object::New(env);
  if (text == nullptr) return out;
  auto bad = [&]() -> Napi::Error {
    return Napi::Error::New(env, std::string("cannot parse the tempids eve returned: ") + text);
  };
  const char* p = text;
  auto skip = [&]() {
    while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t' || *p == '\r') p++;
  };
  skip();
  if (*p++ != '{') throw bad();
  for (;;) {
    skip();
    if (*p == '}') break;
    if (*p++ != '"') throw bad();
    std::string key;
    for (;;) {
      char c = *p++;
      if (c == '\0') throw bad();
      if (c == '"') break;
      if (c != '\\') {
        key += c;
        continue;
      }
      char e = *p++;
      switch (e) {
        case 'n': key += '\n'; break;
        case 'r': key += '\r'; break;
        case 't': key += '\t'; break;
        case '0': key += '\0'; break;
        case '\\': key += '\\'; break;
        case '"': key += '"'; break;
        case '\'': key += '\''; break;
        case 'u': {
          if (*p++ != '{') throw bad();
          uint32_t cp = 0;
          int digits = 0;
          for (; std::isxdigit(static_cast<unsigned char>(*p)); p++, digits++) {
            char h = *p;
            cp = cp * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
          }
          if (*p++ != '}' || digits == 0 || digits > 6 || cp > 0x10FFFF) throw bad();
          AppendUtf8(key, cp);
          break;
        }
        default:
          throw bad();
      }
    }
    skip();
    if (*p < '0' || *p > '9') throw bad();
    uint64_t id = 0;
    for (; *p >= '0' && *p <= '9'; p++) id = id * 10 + static_cast<uint64_t>(*p - '0');
    out.DefineProperty(Napi::PropertyDescriptor::Value(Napi::String::New(env, key), Num(env, id),
                                                       napi_default_jsproperty));
  }
  return out;
}

// transactEdn(db, txEdn, {metadata, synced}): runs EDN transaction data on the database;
// returns {t, datoms, retries, tempids}. `metadata` is an EDN map (text) or undefined/null.
Napi::Value Slab::TransactEdn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t db = ArgIndex(info, 0, "db");
  std::string tx = ArgName(info, 1, "txEdn");
  std::string metadata;
  bool has_metadata = false;
  uint32_t flags = 0;
  Napi::Value v = info[2];
  if (!v.IsUndefined() && !v.IsNull()) {
    if (!v.IsObject()) ThrowType(env, "options must be an object");
    Napi::Object opts = v.As<Napi::Object>();
    Napi::Value m = opts.Get("metadata");
    if (!m.IsUndefined() && !m.IsNull()) {
      if (!m.IsString()) ThrowType(env, "options.metadata must be a string (an EDN map)");
      metadata = m.As<Napi::String>().Utf8Value();
      if (metadata.find('\0') != std::string::npos) ThrowType(env, "options.metadata must not contain NUL");
      has_metadata = true;
    }
    Napi::Value synced = opts.Get("synced");
    if (!synced.IsUndefined()) {
      if (!synced.IsBoolean()) ThrowType(env, "options.synced must be a boolean");
      if (synced.As<Napi::Boolean>().Value()) flags |= EVE_TX_SYNCED;
    }
  }
  eve_tx_report report{};
  Check(env, eve_db_transact(slab_, db, tx.c_str(), has_metadata ? metadata.c_str() : nullptr, flags, &report));
  // report.tempids lives until the next eve call on this thread: parse it first.
  Napi::Object tempids = ParseTempids(env, report.tempids);
  Napi::Object out = Napi::Object::New(env);
  out.Set("t", Num(env, report.t));
  out.Set("datoms", Num(env, report.datoms));
  out.Set("retries", Num(env, report.retries));
  out.Set("tempids", tempids);
  return out;
}

// basisT(db): the t of the database's latest transaction (eve_db_wait without waiting).
Napi::Value Slab::BasisT(const Napi::CallbackInfo& info) {
  uint32_t db = ArgIndex(info, 0, "db");
  uint64_t t = 0;
  Check(info.Env(), eve_db_wait(slab_, db, 0, 0, &t));
  return Num(info.Env(), t);
}

// _waitForTransaction(db, afterT, timeoutMs): resolves with the basis t once a transaction
// after `afterT` is published, or with the basis t (<= afterT) on timeout.
Napi::Value Slab::WaitForTransaction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t db = ArgIndex(info, 0, "db");
  uint64_t after = ToU64(env, info[1], "afterT");
  int64_t timeout = ArgTimeout(info, 2);
  eve_slab* slab = slab_;
  WaitWorker* w = new WaitWorker(
      env, "eve:waitForTransaction", Value(),
      [slab, db, after, timeout](uint64_t* basis) { return eve_db_wait(slab, db, after, timeout, basis); },
      WaitWorker::As::Number);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// ---------------------------------------------------------------------------------------
// Read implementation.

Napi::Function Read::Define(Napi::Env env) {
  return DefineClass(env, "Read",
                     {
                         InstanceMethod<&Read::Get>("get"),
                         InstanceMethod<&Read::GetMany>("getMany"),
                         InstanceMethod<&Read::GetInto>("getInto"),
                         InstanceMethod<&Read::Count>("count"),
                         InstanceMethod<&Read::Iterate>("iterate"),
                         InstanceMethod<&Read::End>("end"),
                         InstanceAccessor<&Read::Ended>("ended"),
                         InstanceMethod<&Read::Ident>("ident"),
                         InstanceMethod<&Read::Entity>("entity"),
                         InstanceMethod<&Read::QueryEdn>("_queryEdn"),
                         InstanceMethod<&Read::Query>("_query"),
                         InstanceMethod<&Read::PullEdn>("pullEdn"),
                         InstanceMethod<&Read::Pull>("pull"),
                         InstanceMethod<&Read::Datoms>("_datoms"),
                         InstanceMethod<&Read::Log>("log"),
                     });
}

Read::Read(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Read>(info) {
  if (info.Length() < 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &kConstructToken)
    ThrowType(info.Env(), "Read cannot be constructed directly: use slab.read()");
}

Read::~Read() { ForceEnd(Env()); }

void Read::CloseIters(napi_env env) {
  std::vector<OpenIter> iters;
  iters.swap(iters_);
  for (OpenIter& oi : iters) {
    oi.iter->Orphan();
    oi.iter->ForceClose(env);
    napi_delete_reference(env, oi.ref);
  }
}

void Read::Detach(napi_env env) {
  buffers_.DetachAll(env);
  if (slab_ != nullptr) {
    slab_->ForgetRead(this);
    slab_ = nullptr;
  }
  if (!slab_ref_.IsEmpty()) slab_ref_.Reset();
}

void Read::ForceEnd(napi_env env) {
  if (ended_ || read_ == nullptr) {
    ended_ = true;
    return;
  }
  CloseIters(env);
  eve_read_end(read_);  // a finalizer runs on the thread that began the read
  ended_ = true;
  Detach(env);
}

void Read::ForgetIter(Iter* it) {
  for (size_t i = 0; i < iters_.size(); i++) {
    if (iters_[i].iter == it) {
      napi_delete_reference(Env(), iters_[i].ref);
      iters_.erase(iters_.begin() + i);
      return;
    }
  }
}

Napi::Value Read::Get(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t map = ArgIndex(info, 0, "map");
  std::string slot;
  eve_bytes key;
  ArgBytes(env, info[1], slot, key, "key");
  eve_bytes value{nullptr, 0};
  Check(env, eve_read_get(read_, map, key.data, key.len, &value));
  return Napi::Value(env, ViewBytes(env, value, buffers_));
}

// getInto(map, key, target, offset = 0): copies the value of `key` into `target` (any
// TypedArray, DataView or ArrayBuffer) at byte `offset` if it fits, and returns its length
// (so a return value larger than the room left means nothing was copied); undefined when
// the key is absent. No Buffer is created: the cheap way to copy values out.
Napi::Value Read::GetInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t map = ArgIndex(info, 0, "map");
  std::string slot;
  eve_bytes key;
  ArgBytes(env, info[1], slot, key, "key");
  std::string unused;
  eve_bytes target;
  if (info[2].IsString() || !ToBytes(env, info[2], unused, target))
    ThrowType(env, "target must be a Buffer, TypedArray, DataView or ArrayBuffer");
  size_t offset = 0;
  if (!info[3].IsUndefined()) {
    if (!info[3].IsNumber()) ThrowType(env, "offset must be a number");
    double d = info[3].As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= static_cast<double>(target.len)) || std::floor(d) != d)
      ThrowRange(env, "offset must be an integer in 0..target.byteLength");
    offset = static_cast<size_t>(d);
  }
  eve_bytes value{nullptr, 0};
  Check(env, eve_read_get(read_, map, key.data, key.len, &value));
  if (value.data == nullptr) return env.Undefined();
  if (value.len <= target.len - offset && value.len > 0)
    std::memcpy(const_cast<uint8_t*>(target.data) + offset, value.data, value.len);
  return Napi::Number::New(env, static_cast<double>(value.len));
}

Napi::Value Read::GetMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t map = ArgIndex(info, 0, "map");
  if (!info[1].IsArray()) ThrowType(env, "keys must be an array");
  Napi::Array keys = info[1].As<Napi::Array>();
  uint32_t n = keys.Length();
  keys_scratch_.resize(n);
  values_scratch_.resize(n);
  if (strings_scratch_.size() < n) strings_scratch_.resize(n);  // resized before any slot is used
  for (uint32_t i = 0; i < n; i++) {
    napi_value k;
    if (napi_get_element(env, keys, i, &k) != napi_ok) throw Napi::Error::New(env);
    if (!ToBytes(env, k, strings_scratch_[i], keys_scratch_[i]))
      ThrowType(env, "keys[" + std::to_string(i) + "] must be a Buffer, TypedArray, DataView, ArrayBuffer or string");
  }
  Check(env, eve_read_get_many(read_, map, n ? keys_scratch_.data() : nullptr, n, n ? values_scratch_.data() : nullptr));
  Napi::Array out = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::HandleScope scope(env);
    napi_set_element(env, out, i, ViewBytes(env, values_scratch_[i], buffers_));
  }
  return out;
}

Napi::Value Read::Count(const Napi::CallbackInfo& info) {
  uint32_t map = ArgIndex(info, 0, "map");
  uint64_t count = 0;
  Check(info.Env(), eve_read_count(read_, map, &count));
  return Napi::Number::New(info.Env(), static_cast<double>(count));
}

Napi::Value Read::Iterate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t map = ArgIndex(info, 0, "map");
  eve_iter* it = nullptr;
  Check(env, eve_iter_open(read_, map, &it));
  Napi::Object obj;
  try {
    obj = AddonOf(env)->iter_ctor.New({Napi::External<int>::New(env, &kConstructToken)});
  } catch (...) {
    eve_iter_close(it);
    throw;
  }
  Iter* iter = Iter::Unwrap(obj);
  iter->Attach(it, this);
  napi_ref ref;
  if (napi_create_reference(env, obj, 1, &ref) != napi_ok) {
    iter->ForceClose(env);
    throw Napi::Error::New(env, "cannot reference the iterator");
  }
  iters_.push_back({iter, ref});
  return obj;
}

Napi::Value Read::End(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (ended_) return env.Undefined();  // ending twice is harmless
  Check(env, eve_read_end(read_));      // fails (and changes nothing) on another thread
  ended_ = true;
  CloseIters(env);
  Detach(env);
  return env.Undefined();
}

Napi::Value Read::Ended(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ended_); }


// ---------------------------------------------------------------------------------------
// DaoDB on the Read.

// ident(db, ident): the entity with that :db/ident (a keyword, with or without the colon)
// in the version this read sees, or undefined.
Napi::Value Read::Ident(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t db = ArgIndex(info, 0, "db");
  std::string ident = ArgName(info, 1, "ident");
  uint64_t e = 0;
  eve_status s = eve_db_ident(read_, db, ident.c_str(), &e);
  if (s == EVE_ERR_NOT_FOUND) return env.Undefined();
  Check(env, s);
  return Num(env, e);
}

// entity(db, ref): the entity an EDN reference names (an id, an ident or a lookup ref) as
// the EDN text of its attributes in the version this read sees.
Napi::Value Read::Entity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t db = ArgIndex(info, 0, "db");
  if (info.Length() < 2 || !info[1].IsString()) {
    throw Napi::TypeError::New(env, "entity reference must be a string of EDN");
  }
  std::string reference = info[1].As<Napi::String>().Utf8Value();
  const char* edn = nullptr;
  Check(env, eve_db_entity(read_, db, reference.c_str(), &edn));
  // Valid until the next eve call on this thread: copied into a JS string now.
  return Napi::String::New(env, edn);
}

uint64_t ArgT(const Napi::CallbackInfo& info, size_t i, const char* what);  // defined below

// The arguments of a pull: (db, patternEdn, entityEdn).
struct PullArgs {
  uint32_t db = 0;
  std::string pattern, entity;
};

PullArgs ArgsOfPull(const Napi::CallbackInfo& info) {
  PullArgs a;
  a.db = ArgIndex(info, 0, "db");
  if (info.Length() < 3 || !info[1].IsString() || !info[2].IsString()) {
    ThrowType(info.Env(), "pull takes a pattern and an entity reference, both EDN strings");
  }
  a.pattern = info[1].As<Napi::String>().Utf8Value();
  a.entity = info[2].As<Napi::String>().Utf8Value();
  return a;
}

// The arguments of a query: (db, queryEdn, inputsEdn?, view?, t?).
struct QueryArgs {
  uint32_t db = 0;
  std::string query, inputs;
  bool has_inputs = false;
  uint32_t view = 0;
  uint64_t t = 0;
  const char* inputs_or_null() const { return has_inputs ? inputs.c_str() : nullptr; }
};

QueryArgs ArgsOfQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  QueryArgs a;
  a.db = ArgIndex(info, 0, "db");
  if (info.Length() < 2 || !info[1].IsString()) ThrowType(env, "query must be a string of EDN");
  a.query = info[1].As<Napi::String>().Utf8Value();
  a.has_inputs = info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull();
  if (a.has_inputs) {
    if (!info[2].IsString()) ThrowType(env, "inputs must be a string of EDN");
    a.inputs = info[2].As<Napi::String>().Utf8Value();
  }
  if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) a.view = ArgIndex(info, 3, "view");
  if (info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsNull()) a.t = ArgT(info, 4, "t");
  return a;
}

// pullEdn(db, patternEdn, entityEdn): the entity shaped by a pull pattern, as EDN text.
Napi::Value Read::PullEdn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PullArgs a = ArgsOfPull(info);
  const char* answer = nullptr;
  Check(env, eve_db_pull(read_, a.db, a.pattern.c_str(), a.entity.c_str(), &answer));
  // Valid until the next eve call on this thread: copied into a JS string now.
  return Napi::String::New(env, answer);
}

// _queryEdn(db, queryEdn, inputsEdn?, view?, t?): a Datalog query run in this process on
// the shared indexes, against a view (an eve_view); the answer as EDN text.
Napi::Value Read::QueryEdn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  QueryArgs a = ArgsOfQuery(info);
  const char* answer = nullptr;
  Check(env, eve_db_query(read_, a.db, a.view, a.t, a.query.c_str(), a.inputs_or_null(), &answer));
  // Valid until the next eve call on this thread: copied into a JS string now.
  return Napi::String::New(env, answer);
}

// Closes a cursor on every way out of a native call.
class CursorGuard {
 public:
  explicit CursorGuard(eve_cursor* c) : c_(c) {}
  ~CursorGuard() {
    if (c_ != nullptr) eve_cursor_close(c_);
  }
  eve_cursor* get() const { return c_; }
  // Closes now, reporting failure.
  eve_status Close() {
    eve_cursor* c = c_;
    c_ = nullptr;
    return eve_cursor_close(c);
  }

 private:
  eve_cursor* c_;
};

const char* const kValueTypeNames[] = {"nil",  "boolean", "long",    "double", "string", "keyword",
                                       "symbol", "uuid",  "instant", "bytes",  "ref"};
constexpr uint32_t kValueTypes = sizeof(kValueTypeNames) / sizeof(kValueTypeNames[0]);

// A uuid's 16 bytes as canonical lowercase text: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6'.
napi_value UuidText(napi_env env, const uint8_t* bytes) {
  static const char hex[] = "0123456789abcdef";
  char text[36];
  size_t j = 0;
  for (size_t i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text[j++] = '-';
    uint8_t b = bytes[i];
    text[j++] = hex[b >> 4];
    text[j++] = hex[b & 15];
  }
  napi_value out;
  if (napi_create_string_utf8(env, text, sizeof text, &out) != napi_ok) throw Napi::Error::New(env);
  return out;
}

// The JS value of a datom's value; copies its bytes (valid only until the next
// eve_cursor_next).
napi_value DatomValue(Napi::Env env, const eve_datom& d) {
  const char* bytes = reinterpret_cast<const char*>(d.bytes.data != nullptr ? d.bytes.data : kEmpty);
  switch (d.value_type) {
    case EVE_VALUE_NIL:
      return env.Null();
    case EVE_VALUE_BOOLEAN:
      return Napi::Boolean::New(env, d.int_value != 0);
    case EVE_VALUE_LONG:
      if (d.int_value >= -9007199254740991LL && d.int_value <= 9007199254740991LL)
        return Napi::Number::New(env, static_cast<double>(d.int_value));
      return Napi::BigInt::New(env, d.int_value);
    case EVE_VALUE_DOUBLE:
      return Napi::Number::New(env, d.double_value);
    case EVE_VALUE_STRING:
    case EVE_VALUE_KEYWORD:
    case EVE_VALUE_SYMBOL:
      return Napi::String::New(env, bytes, d.bytes.len);
    case EVE_VALUE_UUID:
      if (d.bytes.len != 16) throw MakeEveError(env, EVE_ERR_INTERNAL, "a uuid datom without 16 bytes");
      return UuidText(env, d.bytes.data);
    case EVE_VALUE_INSTANT:
      return Napi::Date::New(env, static_cast<double>(d.int_value));
    case EVE_VALUE_BYTES:
      return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(bytes), d.bytes.len);
    case EVE_VALUE_REF:
      return Num(env, static_cast<uint64_t>(d.int_value));
    default:
      throw MakeEveError(env, EVE_ERR_INTERNAL, "a datom of unknown value type " + std::to_string(d.value_type));
  }
}

// ---------------------------------------------------------------------------------------
// Answers (eve_db_query_answer, eve_db_pull_answer) as JS values.
//
// An answer is one array of eve_node (node 0 the root; a collection's children are `count`
// consecutive nodes from `first`, a map's 2 * count of them alternating key and value). It
// is fetched once with eve_answer_nodes and converted here without any further eve call;
// the answer is freed on every way out (AnswerGuard).

// eve_shape (src/ffi/answer.rs). The header does not declare the enum (cbindgen.toml does
// not export it), so its values are repeated here.
constexpr uint32_t kShapeRelation = 0;
constexpr uint32_t kShapeScalar = 1;
constexpr uint32_t kShapeCollection = 2;
constexpr uint32_t kShapeTuple = 3;
constexpr uint32_t kShapeMaps = 4;
constexpr uint32_t kShapePull = 5;

// Frees an answer on every way out of a native call.
class AnswerGuard {
 public:
  AnswerGuard() = default;
  AnswerGuard(const AnswerGuard&) = delete;
  AnswerGuard& operator=(const AnswerGuard&) = delete;
  ~AnswerGuard() {
    if (a_ != nullptr) eve_answer_free(a_);
  }
  eve_answer** out() { return &a_; }
  eve_answer* get() const { return a_; }

 private:
  eve_answer* a_ = nullptr;
};

// A napi handle scope as a C++ scope (closed on exceptions too).
class Scope {
 public:
  explicit Scope(napi_env env) : env_(env) {
    if (napi_open_handle_scope(env, &scope_) != napi_ok) throw Napi::Error::New(env, "cannot open a handle scope");
  }
  ~Scope() { napi_close_handle_scope(env_, scope_); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  napi_env env_;
  napi_handle_scope scope_ = nullptr;
};

// Throws the pending JS exception (or a generic error) unless `s` is napi_ok.
inline void NapiCheck(napi_env env, napi_status s) {
  if (s != napi_ok) throw Napi::Error::New(env);
}

class AnswerConverter {
 public:
  AnswerConverter(Napi::Env env, const eve_node* nodes, uint64_t count) : env_(env), nodes_(nodes), count_(count) {
    EveAddon* addon = AddonOf(env);
    if (addon == nullptr || addon->keyword_class.IsEmpty() || addon->symbol_class.IsEmpty())
      throw Napi::Error::New(env, "the Keyword and EdnSymbol classes are not registered (load index.js)");
    keyword_ = addon->keyword_class.Value();
    symbol_ = addon->symbol_class.Value();
    if (count_ == 0 || nodes_ == nullptr) Bad("an answer without nodes");
  }

  // The JS value of node `index`.
  napi_value Value(uint64_t index, uint32_t depth = 0) {
    const eve_node& n = Node(index);
    napi_value out = nullptr;
    switch (n.value_type) {
      case EVE_VALUE_NIL:
        NapiCheck(env_, napi_get_null(env_, &out));
        return out;
      case EVE_VALUE_BOOLEAN:
        NapiCheck(env_, napi_get_boolean(env_, n.int_value != 0, &out));
        return out;
      case EVE_VALUE_LONG:
        return Integer(n.int_value);
      case EVE_VALUE_DOUBLE:
        NapiCheck(env_, napi_create_double(env_, n.double_value, &out));
        return out;
      case EVE_VALUE_STRING:
        return Text(n);
      case EVE_VALUE_KEYWORD:
        return Named(keyword_, n);
      case EVE_VALUE_SYMBOL:
        return Named(symbol_, n);
      case EVE_VALUE_UUID:
        if (n.bytes.len != 16 || n.bytes.data == nullptr) Bad("a uuid node without 16 bytes");
        return UuidText(env_, n.bytes.data);
      case EVE_VALUE_INSTANT:
        NapiCheck(env_, napi_create_date(env_, static_cast<double>(n.int_value), &out));
        return out;
      case EVE_VALUE_BYTES: {
        const void* data = n.bytes.data != nullptr ? n.bytes.data : kEmpty;
        NapiCheck(env_, napi_create_buffer_copy(env_, n.bytes.len, data, nullptr, &out));
        return out;
      }
      case EVE_VALUE_REF: {
        // An entity id (a u64 carried in int_value).
        uint64_t e = static_cast<uint64_t>(n.int_value);
        if (e <= kMaxSafe) {
          NapiCheck(env_, napi_create_double(env_, static_cast<double>(e), &out));
        } else {
          NapiCheck(env_, napi_create_bigint_uint64(env_, e, &out));
        }
        return out;
      }
      case EVE_VALUE_VECTOR:
      case EVE_VALUE_SET: {
        // A set's items come sorted and distinct: an Array keeps that order.
        Children(index, n, n.count, depth);
        NapiCheck(env_, napi_create_array_with_length(env_, n.count, &out));
        bool scoped = n.count > kScopeAbove;
        for (uint32_t i = 0; i < n.count; i++) {
          if (scoped) {
            Scope scope(env_);
            NapiCheck(env_, napi_set_element(env_, out, i, Value(n.first + i, depth + 1)));
          } else {
            NapiCheck(env_, napi_set_element(env_, out, i, Value(n.first + i, depth + 1)));
          }
        }
        return out;
      }
      case EVE_VALUE_MAP:
        Children(index, n, 2 * static_cast<uint64_t>(n.count), depth);
        return TextKeys(n) ? ObjectOf(n, depth) : MapOf(n, depth);
      default:
        Bad("a node of unknown value type " + std::to_string(n.value_type));
    }
  }

  // A return-maps answer (:keys, :syms, :strs): an Array of plain objects whose property
  // names are the column names, in find order.
  napi_value ReturnMaps(const std::vector<std::string>& columns) {
    const eve_node& root = Node(0);
    if (root.value_type != EVE_VALUE_VECTOR) Bad("a return-maps answer whose root is not a vector");
    Children(0, root, root.count, 0);
    std::vector<napi_value> names;
    names.reserve(columns.size());
    for (const std::string& c : columns) {
      napi_value name;
      NapiCheck(env_, napi_create_string_utf8(env_, c.data(), c.size(), &name));
      names.push_back(name);
    }
    napi_value out;
    NapiCheck(env_, napi_create_array_with_length(env_, root.count, &out));
    for (uint32_t r = 0; r < root.count; r++) {
      Scope scope(env_);
      uint64_t index = root.first + r;
      const eve_node& row = Node(index);
      if (row.value_type != EVE_VALUE_MAP || row.count != columns.size())
        Bad("a return map without one entry per column");
      Children(index, row, 2 * static_cast<uint64_t>(row.count), 1);
      napi_value object;
      NapiCheck(env_, napi_create_object(env_, &object));
      for (uint32_t c = 0; c < row.count; c++) {
        // Entry c is the column c: key at first + 2c, value at first + 2c + 1.
        SetProperty(object, names[c], columns[c], Value(row.first + 2 * static_cast<uint64_t>(c) + 1, 2));
      }
      NapiCheck(env_, napi_set_element(env_, out, r, object));
    }
    return out;
  }

 private:
  static constexpr uint64_t kMaxSafe = 9007199254740991ULL;  // Number.MAX_SAFE_INTEGER
  static constexpr uint32_t kScopeAbove = 8;                 // larger collections scope each child
  static constexpr uint32_t kMaxDepth = 1000;                // pulls nest at most ~35 levels

  [[noreturn]] void Bad(const std::string& what) {
    throw MakeEveError(env_, EVE_ERR_INTERNAL, "malformed answer from eve: " + what);
  }

  const eve_node& Node(uint64_t index) {
    if (index >= count_) Bad("node " + std::to_string(index) + " of " + std::to_string(count_));
    return nodes_[index];
  }

  // Checks that the `children` children of collection node `index` lie in the array after
  // it (so that walking them always ends) and that nesting stays shallow.
  void Children(uint64_t index, const eve_node& n, uint64_t children, uint32_t depth) {
    if (depth >= kMaxDepth) Bad("collections nested deeper than " + std::to_string(kMaxDepth));
    if (children == 0) return;
    if (n.first <= index || n.first > count_ || children > count_ - n.first)
      Bad("the children of node " + std::to_string(index) + " lie outside the answer");
  }

  napi_value Integer(int64_t v) {
    napi_value out;
    if (v >= -static_cast<int64_t>(kMaxSafe) && v <= static_cast<int64_t>(kMaxSafe)) {
      NapiCheck(env_, napi_create_double(env_, static_cast<double>(v), &out));
    } else {
      NapiCheck(env_, napi_create_bigint_int64(env_, v, &out));
    }
    return out;
  }

  static const char* Chars(const eve_node& n) {
    return n.bytes.data != nullptr ? reinterpret_cast<const char*>(n.bytes.data) : "";
  }

  napi_value Text(const eve_node& n) {
    napi_value out;
    NapiCheck(env_, napi_create_string_utf8(env_, Chars(n), n.bytes.len, &out));
    return out;
  }

  // new Keyword(name) / new EdnSymbol(name).
  napi_value Named(napi_value ctor, const eve_node& n) {
    napi_value name = Text(n), out;
    NapiCheck(env_, napi_new_instance(env_, ctor, 1, &name, &out));
    return out;
  }

  // Whether every key of map `n` is a keyword or a string, with no two of the same text:
  // then the map becomes a plain object.
  bool TextKeys(const eve_node& n) {
    for (uint32_t i = 0; i < n.count; i++) {
      const eve_node& k = nodes_[n.first + 2 * static_cast<uint64_t>(i)];
      if (k.value_type != EVE_VALUE_KEYWORD && k.value_type != EVE_VALUE_STRING) return false;
    }
    auto text = [&](uint32_t i) {
      const eve_node& k = nodes_[n.first + 2 * static_cast<uint64_t>(i)];
      return std::string_view(Chars(k), k.bytes.len);
    };
    if (n.count <= 16) {
      for (uint32_t i = 1; i < n.count; i++)
        for (uint32_t j = 0; j < i; j++)
          if (text(i) == text(j)) return false;
      return true;
    }
    std::unordered_set<std::string_view> seen;
    seen.reserve(n.count);
    for (uint32_t i = 0; i < n.count; i++)
      if (!seen.insert(text(i)).second) return false;
    return true;
  }

  // Sets an own data property, even one called "__proto__" (which a plain set would
  // treat as the prototype).
  void SetProperty(napi_value object, napi_value key, std::string_view text, napi_value value) {
    if (text == "__proto__") {
      napi_property_descriptor d{};
      d.name = key;
      d.value = value;
      d.attributes = napi_default_jsproperty;
      NapiCheck(env_, napi_define_properties(env_, object, 1, &d));
    } else {
      NapiCheck(env_, napi_set_property(env_, object, key, value));
    }
  }

  napi_value ObjectOf(const eve_node& n, uint32_t depth) {
    napi_value out;
    NapiCheck(env_, napi_create_object(env_, &out));
    bool scoped = n.count > kScopeAbove;
    for (uint32_t i = 0; i < n.count; i++) {
      auto entry = [&] {
        const eve_node& k = nodes_[n.first + 2 * static_cast<uint64_t>(i)];
        SetProperty(out, Text(k), std::string_view(Chars(k), k.bytes.len),
                    Value(n.first + 2 * static_cast<uint64_t>(i) + 1, depth + 1));
      };
      if (scoped) {
        Scope scope(env_);
        entry();
      } else {
        entry();
      }
    }
    return out;
  }

  napi_value MapOf(const eve_node& n, uint32_t depth) {
    napi_value global, map_ctor, out, set;
    NapiCheck(env_, napi_get_global(env_, &global));
    NapiCheck(env_, napi_get_named_property(env_, global, "Map", &map_ctor));
    NapiCheck(env_, napi_new_instance(env_, map_ctor, 0, nullptr, &out));
    NapiCheck(env_, napi_get_named_property(env_, out, "set", &set));
    for (uint32_t i = 0; i < n.count; i++) {
      Scope scope(env_);
      napi_value args[2] = {Value(n.first + 2 * static_cast<uint64_t>(i), depth + 1),
                            Value(n.first + 2 * static_cast<uint64_t>(i) + 1, depth + 1)};
      napi_value ignored;
      NapiCheck(env_, napi_call_function(env_, out, set, 2, args, &ignored));
    }
    return out;
  }

  napi_env env_;
  const eve_node* nodes_;
  uint64_t count_;
  napi_value keyword_ = nullptr;
  napi_value symbol_ = nullptr;
};

// Whether a relation's rows (children of the root) are vectors of `width` plain values
// that lie inside the answer: then they can go out as one flat array.
bool FlatRows(const eve_node* nodes, uint64_t count, uint64_t rows, uint64_t width) {
  const eve_node& root = nodes[0];
  if (root.value_type != EVE_VALUE_SET || root.count != rows || width == 0) return false;
  if (root.first + rows > count || rows * width > 0xFFFFFFFFull) return false;
  for (uint64_t r = 0; r < rows; r++) {
    const eve_node& row = nodes[root.first + r];
    if (row.value_type != EVE_VALUE_VECTOR || row.count != width || row.first + width > count) return false;
    for (uint64_t c = 0; c < width; c++) {
      uint32_t t = nodes[row.first + c].value_type;
      if (t == EVE_VALUE_VECTOR || t == EVE_VALUE_SET || t == EVE_VALUE_MAP) return false;
    }
  }
  return true;
}

// The JS value of a whole answer, shaped by eve_answer_shape: a relation is an Array of
// row Arrays, a scalar a value or null, a collection an Array, a tuple an Array or null,
// return maps an Array of objects keyed by the column names, a pull an object.
Napi::Value AnswerValue(Napi::Env env, const eve_answer* answer) {
  uint32_t shape = 0;
  Check(env, eve_answer_shape(answer, &shape));
  const eve_node* nodes = nullptr;
  uint64_t count = 0;
  Check(env, eve_answer_nodes(answer, &nodes, &count));
  std::vector<std::string> columns;
  if (shape == kShapeMaps) {
    uint64_t rows = 0, width = 0;
    Check(env, eve_answer_rows(answer, &rows, &width));
    for (uint64_t c = 0; c < width; c++) {
      const char* name = nullptr;
      Check(env, eve_answer_column_name(answer, c, &name));
      columns.emplace_back(name != nullptr ? name : "");
    }
  } else if (shape > kShapePull) {
    throw MakeEveError(env, EVE_ERR_INTERNAL, "an answer of unknown shape " + std::to_string(shape));
  }
  AnswerConverter convert(env, nodes, count);
  if (shape == kShapeMaps) return Napi::Value(env, convert.ReturnMaps(columns));
  if (shape == kShapeRelation) {
    // Rows of plain values go out as one flat Array of cells plus the row width, which
    // index.js cuts into rows: JS builds small arrays far faster than N-API calls do.
    uint64_t rows = 0, width = 0;
    Check(env, eve_answer_rows(answer, &rows, &width));
    if (FlatRows(nodes, count, rows, width)) {
      Napi::Array flat = Napi::Array::New(env, static_cast<size_t>(rows * width));
      const eve_node& root = nodes[0];
      uint32_t at = 0;
      for (uint64_t r = 0; r < rows; r++) {
        Napi::HandleScope scope(env);
        const eve_node& row = nodes[root.first + r];
        for (uint64_t c = 0; c < width; c++) {
          NapiCheck(env, napi_set_element(env, flat, at++, convert.Value(row.first + c, 2)));
        }
      }
      // Marked with the width; no other answer array has a named property.
      flat.Set("__eveRowWidth", Napi::Number::New(env, static_cast<double>(width)));
      return flat;
    }
  }
  // Relation (a set of vectors), scalar, collection, tuple and pull are their root as is.
  return Napi::Value(env, convert.Value(0));
}

// _query(db, queryEdn, inputsEdn?, view?, t?): a Datalog query (eve_db_query_answer); the
// answer as JS values (see AnswerValue).
Napi::Value Read::Query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  QueryArgs a = ArgsOfQuery(info);
  AnswerGuard answer;
  Check(env, eve_db_query_answer(read_, a.db, a.view, a.t, a.query.c_str(), a.inputs_or_null(), answer.out()));
  return AnswerValue(env, answer.get());
}

// pull(db, patternEdn, entityEdn): the entity shaped by a pull pattern
// (eve_db_pull_answer), as an object keyed by attribute name.
Napi::Value Read::Pull(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PullArgs a = ArgsOfPull(info);
  AnswerGuard answer;
  Check(env, eve_db_pull_answer(read_, a.db, a.pattern.c_str(), a.entity.c_str(), answer.out()));
  return AnswerValue(env, answer.get());
}

// Drains `cursor` into an array of {e, a, t, m, type, value} objects, 256 datoms per
// eve_cursor_next, and closes it.
Napi::Array DrainCursor(Napi::Env env, eve_cursor* cursor) {
  CursorGuard guard(cursor);
  constexpr size_t kBatch = 256;
  eve_datom batch[kBatch];
  Napi::String ke = Napi::String::New(env, "e"), ka = Napi::String::New(env, "a"), kt = Napi::String::New(env, "t"),
               km = Napi::String::New(env, "m"), ktype = Napi::String::New(env, "type"),
               kvalue = Napi::String::New(env, "value");
  std::vector<Napi::String> type_names;
  type_names.reserve(kValueTypes);
  for (uint32_t i = 0; i < kValueTypes; i++) type_names.push_back(Napi::String::New(env, kValueTypeNames[i]));
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (;;) {
    size_t count = 0;
    Check(env, eve_cursor_next(guard.get(), batch, kBatch, &count));
    if (count == 0) break;
    for (size_t i = 0; i < count; i++) {
      Napi::HandleScope scope(env);
      const eve_datom& d = batch[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set(ke, Num(env, d.e));
      o.Set(ka, Num(env, d.a));
      o.Set(kt, Num(env, d.t));
      o.Set(km, Num(env, d.m));
      o.Set(ktype, d.value_type < kValueTypes ? Napi::Value(type_names[d.value_type]) : env.Undefined());
      o.Set(kvalue, Napi::Value(env, DatomValue(env, d)));
      out.Set(n++, o);
    }
  }
  Check(env, guard.Close());
  return out;
}

// Reads a u64 `t` argument: undefined gives 0.
uint64_t ArgT(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info[i].IsUndefined()) return 0;
  return ToU64(info.Env(), info[i], what);
}

// _datoms(db, index, view, t, componentsEdn, endEdn): every datom of the index (an
// eve_index) in the view (an eve_view; t for asOf/since) whose key starts with the
// components (an EDN vector, or undefined for all) or, with endEdn, lies from the
// components up to endEdn (exclusive). index.js turns names and JS components into these.
Napi::Value Read::Datoms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t db = ArgIndex(info, 0, "db");
  uint32_t index = ArgIndex(info, 1, "index");
  uint32_t view = ArgIndex(info, 2, "view");
  uint64_t t = ArgT(info, 3, "t");
  std::string components, end;
  bool has_components = !info[4].IsUndefined() && !info[4].IsNull();
  if (has_components) components = ArgName(info, 4, "components");
  // An end turns the prefix into a range: [components, end) (eve_db_range).
  bool has_end = info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull();
  if (has_end) end = ArgName(info, 5, "end");
  eve_cursor* cursor = nullptr;
  const char* start = has_components ? components.c_str() : nullptr;
  if (has_end) {
    Check(env, eve_db_range(read_, db, index, view, t, start, end.c_str(), &cursor));
  } else {
    Check(env, eve_db_datoms(read_, db, index, view, t, start, &cursor));
  }
  return DrainCursor(env, cursor);
}

// log(db, fromT = 0): every datom of every transaction from `fromT` on, in order.
Napi::Value Read::Log(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t db = ArgIndex(info, 0, "db");
  uint64_t from = ArgT(info, 1, "fromT");
  eve_cursor* cursor = nullptr;
  Check(env, eve_db_log(read_, db, from, &cursor));
  return DrainCursor(env, cursor);
}

// ---------------------------------------------------------------------------------------
// Iter implementation.

Napi::Function Iter::Define(Napi::Env env) {
  return DefineClass(env, "Iter",
                     {
                         InstanceMethod<&Iter::Next>("next"),
                         InstanceMethod<&Iter::Close>("close"),
                         InstanceAccessor<&Iter::Closed>("closed"),
                     });
}

Iter::Iter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Iter>(info) {
  if (info.Length() < 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &kConstructToken)
    ThrowType(info.Env(), "Iter cannot be constructed directly: use read.iterate()");
}

Iter::~Iter() {
  napi_env env = Env();
  if (owner_ != nullptr) {
    Read* owner = owner_;
    owner_ = nullptr;
    owner->ForgetIter(this);
  }
  ForceClose(env);
}

void Iter::ForceClose(napi_env env) {
  if (!closed_ && iter_ != nullptr) eve_iter_close(iter_);
  closed_ = true;
  buffers_.DetachAll(env);
}

// next(max = 256): up to `max` further entries as [key, value] Buffer pairs; [] once done.
Napi::Value Iter::Next(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t max = 256;
  if (!info[0].IsUndefined()) {
    if (!info[0].IsNumber()) ThrowType(env, "max must be a number");
    double d = info[0].As<Napi::Number>().DoubleValue();
    if (!(d >= 1 && d <= 1048576) || std::floor(d) != d) ThrowRange(env, "max must be an integer in 1..1048576");
    max = static_cast<size_t>(d);
  }
  keys_.resize(max);
  values_.resize(max);
  size_t count = 0;
  Check(env, eve_iter_next(iter_, keys_.data(), values_.data(), max, &count));
  Napi::Array out = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) {
    Napi::HandleScope scope(env);
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Value(env, ViewBytes(env, keys_[i], buffers_)));
    pair.Set(1u, Napi::Value(env, ViewBytes(env, values_[i], buffers_)));
    out.Set(static_cast<uint32_t>(i), pair);
  }
  return out;
}

Napi::Value Iter::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) return env.Undefined();
  Check(env, eve_iter_close(iter_));
  closed_ = true;
  buffers_.DetachAll(env);
  if (owner_ != nullptr) {
    Read* owner = owner_;
    owner_ = nullptr;
    owner->ForgetIter(this);  // drops the read's strong reference to this object
  }
  return env.Undefined();
}

Napi::Value Iter::Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

// ---------------------------------------------------------------------------------------
// Module functions.

// Reads the options object of open()/openAnonymous().
eve_open_options ArgOptions(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  eve_open_options o{};
  Napi::Value v = info[i];
  if (v.IsUndefined() || v.IsNull()) return o;
  if (!v.IsObject()) ThrowType(env, "options must be an object");
  Napi::Object opts = v.As<Napi::Object>();
  auto flag = [&](const char* name, uint32_t bit) {
    Napi::Value f = opts.Get(name);
    if (f.IsUndefined()) return;
    if (!f.IsBoolean()) ThrowType(env, std::string("options.") + name + " must be a boolean");
    if (f.As<Napi::Boolean>().Value()) o.flags |= bit;
  };
  flag("readOnly", EVE_OPEN_READ_ONLY);
  flag("mustExist", EVE_OPEN_MUST_EXIST);
  Napi::Value slots = opts.Get("readerSlots");
  if (!slots.IsUndefined())
    o.reader_slots = ToU32UpTo(env, slots, "options.readerSlots", 4294967295.0, "0..2^32-1");
  Napi::Value max = opts.Get("maxSize");
  if (!max.IsUndefined()) o.max_size = ToU64(env, max, "options.maxSize");
  Napi::Value mode = opts.Get("mode");
  if (!mode.IsUndefined())
    o.mode = ToU32UpTo(env, mode, "options.mode", 0777, "0..0o777 (permission bits)");
  return o;
}

Napi::Object NewSlab(Napi::Env env, eve_slab* slab) {
  Napi::Object obj;
  try {
    obj = AddonOf(env)->slab_ctor.New({Napi::External<int>::New(env, &kConstructToken)});
  } catch (...) {
    eve_slab_close(slab);
    throw;
  }
  Slab::Unwrap(obj)->Attach(slab);
  return obj;
}

Napi::Value EveAddon::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgName(info, 0, "path");
  eve_open_options o = ArgOptions(info, 1);
  eve_slab* slab = nullptr;
  Check(env, eve_slab_open(path.c_str(), &o, &slab));
  return NewSlab(env, slab);
}

Napi::Value EveAddon::OpenAnonymous(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  eve_open_options o = ArgOptions(info, 0);
  eve_slab* slab = nullptr;
  Check(env, eve_slab_open_anonymous(&o, &slab));
  return NewSlab(env, slab);
}

Napi::Value EveAddon::Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), eve_version()); }

Napi::Value EveAddon::StatusName(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) ThrowType(info.Env(), "status must be a number");
  return Napi::String::New(info.Env(), eve_status_name(info[0].As<Napi::Number>().Int32Value()));
}

// Registers the class used for eve errors: new ErrorClass(message, code, status).
Napi::Value EveAddon::SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) ThrowType(info.Env(), "the error class must be a function");
  error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// Registers the classes of keywords and symbols in answers: new Keyword(name),
// new EdnSymbol(name) (name without a colon).
Napi::Value EveAddon::SetValueClasses(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction() || !info[1].IsFunction()) ThrowType(info.Env(), "the value classes must be functions");
  keyword_class = Napi::Persistent(info[0].As<Napi::Function>());
  symbol_class = Napi::Persistent(info[1].As<Napi::Function>());
  return info.Env().Undefined();
}

// The address of a Buffer's first byte, as a BigInt (for tests of zero copy).
Napi::Value EveAddon::BufferAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) ThrowType(env, "expected a Buffer or TypedArray");
  void* data = nullptr;
  size_t length = 0;
  napi_get_typedarray_info(env, info[0], nullptr, &length, &data, nullptr, nullptr);
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data)));
}

// ---------------------------------------------------------------------------------------
// Yin: programs run as agents whose parked continuations live in the slab. The runtime
// handle (eve_yin *) is handed to JS as a BigInt token: eve never dereferences handles and
// reports a closed, stale or made-up one as EVE_ERR_INVALID_ARGUMENT, so a token is safe to
// hold in JS. index.js wraps the token in its Yin class and converts values to and from
// the EDN text they cross the ABI as.

eve_yin* YinArg(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  if (!v.IsBigInt()) ThrowType(info.Env(), "the yin handle must be a BigInt");
  bool lossless = false;
  uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowRange(info.Env(), "the yin handle must be in 0..2^64-1");
  return reinterpret_cast<eve_yin*>(static_cast<uintptr_t>(x));
}

// A u64 as a Number when it is a safe integer, else a BigInt.
Napi::Value U64Value(Napi::Env env, uint64_t x) {
  if (x <= 9007199254740991ULL) return Napi::Number::New(env, static_cast<double>(x));
  return Napi::BigInt::New(env, x);
}

// An optional EDN text argument (undefined or null: NULL, which eve reads as nil).
bool EdnArg(const Napi::CallbackInfo& info, size_t i, std::string& out) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return false;
  out = ArgName(info, i, "the value's EDN");
  return true;
}

uint32_t ProjectionArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) ThrowType(info.Env(), "projection must be a number (0 walker, 1 stack)");
  return v.As<Napi::Number>().Uint32Value();
}

Napi::Value YinResultObject(Napi::Env env, const eve_yin_result& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("agent", U64Value(env, r.agent));
  out.Set("state", Napi::Number::New(env, r.state));
  out.Set("wait", Napi::Number::New(env, r.wait));
  out.Set("cursor", U64Value(env, r.cursor));
  out.Set("steps", U64Value(env, r.steps));
  out.Set("valueEdn", r.value_edn == nullptr ? env.Null() : Napi::String::New(env, r.value_edn));
  return out;
}

Napi::Value YinOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EveAddon* addon = AddonOf(env);
  if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(addon->slab_ctor.Value()))
    ThrowType(env, "slab must be a Slab");
  Slab* slab = Slab::Unwrap(info[0].As<Napi::Object>());
  std::string name = ArgName(info, 1, "name");
  eve_yin* yin = nullptr;
  Check(env, eve_yin_open(slab->handle(), name.c_str(), &yin));
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(yin)));
}

Napi::Value YinClose(const Napi::CallbackInfo& info) {
  Check(info.Env(), eve_yin_close(YinArg(info)));
  return info.Env().Undefined();
}

Napi::Value YinCompile(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  if (!info[1].IsString()) ThrowType(info.Env(), "source must be a string");
  std::string source = info[1].As<Napi::String>().Utf8Value();
  if (source.find('\0') != std::string::npos) ThrowType(info.Env(), "source must not contain NUL");
  uint64_t program = 0;
  Check(info.Env(), eve_yin_compile(yin, source.c_str(), &program));
  return U64Value(info.Env(), program);
}

Napi::Value YinRun(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t program = ToU64(info.Env(), info[1], "program");
  uint32_t projection = ProjectionArg(info, 2);
  eve_yin_result r{};
  Check(info.Env(), eve_yin_run(yin, program, projection, &r));
  return YinResultObject(info.Env(), r);
}

Napi::Value YinResume(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t agent = ToU64(info.Env(), info[1], "agent");
  std::string edn;
  bool has = EdnArg(info, 2, edn);
  eve_yin_result r{};
  Check(info.Env(), eve_yin_resume(yin, agent, has ? edn.c_str() : nullptr, &r));
  return YinResultObject(info.Env(), r);
}

Napi::Value YinSpawn(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t program = ToU64(info.Env(), info[1], "program");
  uint32_t projection = ProjectionArg(info, 2);
  uint64_t agent = 0;
  Check(info.Env(), eve_yin_spawn(yin, program, projection, &agent));
  return U64Value(info.Env(), agent);
}

Napi::Value YinWake(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t agent = ToU64(info.Env(), info[1], "agent");
  std::string edn;
  bool has = EdnArg(info, 2, edn);
  Check(info.Env(), eve_yin_wake(yin, agent, has ? edn.c_str() : nullptr));
  return info.Env().Undefined();
}

Napi::Value YinWork(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  eve_yin* yin = YinArg(info);
  uint64_t idle = ToU64(env, info[1], "idleMs");
  int64_t timeout = -1;
  if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull()) {
    if (!info[2].IsNumber()) ThrowType(env, "timeoutMs must be a number");
    double d = info[2].As<Napi::Number>().DoubleValue();
    timeout = d < 0 ? -1 : static_cast<int64_t>(d);
  }
  eve_yin_work_report r{};
  Check(env, eve_yin_work(yin, idle, timeout, &r));
  Napi::Object out = Napi::Object::New(env);
  out.Set("taken", U64Value(env, r.taken));
  out.Set("finished", U64Value(env, r.finished));
  out.Set("parked", U64Value(env, r.parked));
  out.Set("failed", U64Value(env, r.failed));
  return out;
}

Napi::Value YinAgent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  eve_yin* yin = YinArg(info);
  uint64_t agent = ToU64(env, info[1], "agent");
  eve_yin_agent_info a{};
  Check(env, eve_yin_agent(yin, agent, &a));
  Napi::Object out = Napi::Object::New(env);
  out.Set("agent", U64Value(env, a.agent));
  out.Set("state", Napi::Number::New(env, a.state));
  out.Set("projection", Napi::Number::New(env, a.projection));
  out.Set("program", U64Value(env, a.program));
  out.Set("owner", U64Value(env, a.owner));
  out.Set("wait", Napi::Number::New(env, a.wait));
  out.Set("cursor", U64Value(env, a.cursor));
  out.Set("resultEdn", a.result_edn == nullptr ? env.Null() : Napi::String::New(env, a.result_edn));
  out.Set("error", a.error == nullptr ? env.Null() : Napi::String::New(env, a.error));
  return out;
}

Napi::Value YinAgents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  eve_yin* yin = YinArg(info);
  size_t count = 0;
  std::vector<uint64_t> ids;
  while (true) {
    Check(env, eve_yin_agents(yin, nullptr, 0, &count));
    ids.resize(count + 16);  // room for agents created meanwhile
    size_t total = 0;
    Check(env, eve_yin_agents(yin, ids.data(), ids.size(), &total));
    if (total <= ids.size()) {
      ids.resize(total);
      break;
    }
  }
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) out.Set(static_cast<uint32_t>(i), U64Value(env, ids[i]));
  return out;
}

// The most machine steps each run on this handle may take; 0 is no limit.
Napi::Value YinSetStepLimit(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t limit = ToU64(info.Env(), info[1], "limit");
  Check(info.Env(), eve_yin_set_step_limit(yin, limit));
  return info.Env().Undefined();
}

Napi::Value YinQueued(const Napi::CallbackInfo& info) {
  uint64_t count = 0;
  Check(info.Env(), eve_yin_queued(YinArg(info), &count));
  return U64Value(info.Env(), count);
}

Napi::Value YinRecover(const Napi::CallbackInfo& info) {
  uint64_t count = 0;
  Check(info.Env(), eve_yin_recover(YinArg(info), &count));
  return U64Value(info.Env(), count);
}

Napi::Value YinSetTrace(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  if (info.Length() < 2 || !info[1].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), "setTrace: on must be a boolean");
  }
  Check(info.Env(), eve_yin_set_trace(yin, info[1].As<Napi::Boolean>().Value() ? 1 : 0));
  return info.Env().Undefined();
}

Napi::Value YinTrace(const Napi::CallbackInfo& info) {
  bool on = false;
  Check(info.Env(), eve_yin_trace(YinArg(info), &on));
  return Napi::Boolean::New(info.Env(), on);
}

Napi::Value YinStreamMake(const Napi::CallbackInfo& info) {
  uint64_t stream = 0;
  Check(info.Env(), eve_yin_stream_make(YinArg(info), &stream));
  return U64Value(info.Env(), stream);
}

Napi::Value YinStreamPut(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t stream = ToU64(info.Env(), info[1], "stream");
  std::string edn;
  bool has = EdnArg(info, 2, edn);
  Check(info.Env(), eve_yin_stream_put(yin, stream, has ? edn.c_str() : nullptr));
  return info.Env().Undefined();
}

Napi::Value YinStreamCursor(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t stream = ToU64(info.Env(), info[1], "stream");
  uint64_t cursor = 0;
  Check(info.Env(), eve_yin_stream_cursor(yin, stream, &cursor));
  return U64Value(info.Env(), cursor);
}

// The next value's EDN under a cursor, or null when there is none.
Napi::Value YinStreamNext(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t cursor = ToU64(info.Env(), info[1], "cursor");
  const char* edn = nullptr;
  Check(info.Env(), eve_yin_stream_next(yin, cursor, &edn));
  if (edn == nullptr) return info.Env().Null();
  return Napi::String::New(info.Env(), edn);
}

Napi::Value YinStreamClosed(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t stream = ToU64(info.Env(), info[1], "stream");
  bool closed = false;
  Check(info.Env(), eve_yin_stream_closed(yin, stream, &closed));
  return Napi::Boolean::New(info.Env(), closed);
}

Napi::Value YinStreamClose(const Napi::CallbackInfo& info) {
  eve_yin* yin = YinArg(info);
  uint64_t stream = ToU64(info.Env(), info[1], "stream");
  Check(info.Env(), eve_yin_stream_close(yin, stream));
  return info.Env().Undefined();
}

void DefineYin(Napi::Env env, Napi::Object exports) {
  Napi::Object yin = Napi::Object::New(env);
  yin.Set("open", Napi::Function::New(env, YinOpen, "open"));
  yin.Set("close", Napi::Function::New(env, YinClose, "close"));
  yin.Set("compile", Napi::Function::New(env, YinCompile, "compile"));
  yin.Set("run", Napi::Function::New(env, YinRun, "run"));
  yin.Set("resume", Napi::Function::New(env, YinResume, "resume"));
  yin.Set("spawn", Napi::Function::New(env, YinSpawn, "spawn"));
  yin.Set("wake", Napi::Function::New(env, YinWake, "wake"));
  yin.Set("work", Napi::Function::New(env, YinWork, "work"));
  yin.Set("agent", Napi::Function::New(env, YinAgent, "agent"));
  yin.Set("agents", Napi::Function::New(env, YinAgents, "agents"));
  yin.Set("setStepLimit", Napi::Function::New(env, YinSetStepLimit, "setStepLimit"));
  yin.Set("queued", Napi::Function::New(env, YinQueued, "queued"));
  yin.Set("recover", Napi::Function::New(env, YinRecover, "recover"));
  yin.Set("setTrace", Napi::Function::New(env, YinSetTrace, "setTrace"));
  yin.Set("trace", Napi::Function::New(env, YinTrace, "trace"));
  yin.Set("streamMake", Napi::Function::New(env, YinStreamMake, "streamMake"));
  yin.Set("streamPut", Napi::Function::New(env, YinStreamPut, "streamPut"));
  yin.Set("streamCursor", Napi::Function::New(env, YinStreamCursor, "streamCursor"));
  yin.Set("streamNext", Napi::Function::New(env, YinStreamNext, "streamNext"));
  yin.Set("streamClosed", Napi::Function::New(env, YinStreamClosed, "streamClosed"));
  yin.Set("streamClose", Napi::Function::New(env, YinStreamClose, "streamClose"));
  exports.Set("yin", yin);
}

EveAddon::EveAddon(Napi::Env env, Napi::Object exports) {
  if (eve_version_major() != EVE_VERSION_MAJOR || eve_version_minor() != EVE_VERSION_MINOR)
    throw Napi::Error::New(env, std::string("libeve ") + eve_version() + " does not match the eve.h this addon was built with (" +
                                    EVE_VERSION_STRING + "): rebuild the addon");
  Napi::Function slab = Slab::Define(env);
  Napi::Function read = Read::Define(env);
  Napi::Function iter = Iter::Define(env);
  slab_ctor = Napi::Persistent(slab);
  read_ctor = Napi::Persistent(read);
  iter_ctor = Napi::Persistent(iter);
  DefineAddon(exports, {
                           InstanceMethod<&EveAddon::Open>("open"),
                           InstanceMethod<&EveAddon::OpenAnonymous>("openAnonymous"),
                           InstanceMethod<&EveAddon::Version>("version"),
                           InstanceMethod<&EveAddon::StatusName>("statusName"),
                           InstanceMethod<&EveAddon::SetErrorClass>("setErrorClass"),
                           InstanceMethod<&EveAddon::SetValueClasses>("setValueClasses"),
                           InstanceMethod<&EveAddon::BufferAddress>("bufferAddress"),
                           InstanceValue("Slab", slab),
                           InstanceValue("Read", read),
                           InstanceValue("Iter", iter),
                       });
  DefineYin(env, exports);
}

}  // namespace

NODE_API_ADDON(EveAddon)
