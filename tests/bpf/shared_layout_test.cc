// The structs of bpf/lvs_shared.h as C++ sees them, checked twice (Cilium's alignchecker idea):
// at compile time against the layout the C++ code relies on, and at run time against the BTF
// clang wrote into the compiled objects, so the two compilers cannot drift apart unnoticed.
#include <bpf/btf.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bpf/lvs_shared.h"

namespace {

static_assert(sizeof(lvs_endpoint) == 20);
static_assert(offsetof(lvs_endpoint, addr) == 0);
static_assert(offsetof(lvs_endpoint, port) == 16);
static_assert(offsetof(lvs_endpoint, proto) == 18);
static_assert(offsetof(lvs_endpoint, family) == 19);
static_assert(sizeof(lvs_iface) == 8);
static_assert(offsetof(lvs_iface, slot) == 0);
static_assert(offsetof(lvs_iface, flags) == 4);
static_assert(LVS_XSKMAP_SIZE == LVS_MAX_IFACES * LVS_MAX_QUEUES);
static_assert(LVS_STAT_RX == 0 && LVS_STAT_SERVICE == 1 && LVS_STAT_BACKEND == 2 &&
              LVS_STAT_PASS == 3 && LVS_STAT_NO_SOCKET == 4 && LVS_STAT_MAX == 5);

struct Field {
  std::string name;
  size_t offset;
  size_t size;
};
struct Layout {
  std::string name;
  size_t size;
  std::vector<Field> fields;  // every member, in declaration order
};

#define LVS_FIELD(type, member) \
  Field { #member, offsetof(type, member), sizeof(type::member) }

const Layout kEndpoint{"lvs_endpoint",
                       sizeof(lvs_endpoint),
                       {LVS_FIELD(lvs_endpoint, addr), LVS_FIELD(lvs_endpoint, port),
                        LVS_FIELD(lvs_endpoint, proto), LVS_FIELD(lvs_endpoint, family)}};
const Layout kIface{
    "lvs_iface", sizeof(lvs_iface), {LVS_FIELD(lvs_iface, slot), LVS_FIELD(lvs_iface, flags)}};
const Layout kConfig{"lvs_config",
                     sizeof(lvs_config),
                     {LVS_FIELD(lvs_config, flags), LVS_FIELD(lvs_config, reserved)}};

struct BtfCloser {
  void operator()(btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfCloser>;

BtfPtr parse(const char* path) {
  btf* b = btf__parse_elf(path, nullptr);
  return BtfPtr(b);  // libbpf >= 1.0: null on error
}

// Compares one struct of the object's BTF with C++'s layout; failures name the struct and field.
void expect_layout(const btf* b, const Layout& want, const char* object) {
  SCOPED_TRACE(std::string(object) + ": struct " + want.name);
  const int id = btf__find_by_name_kind(b, want.name.c_str(), BTF_KIND_STRUCT);
  ASSERT_GT(id, 0) << "no BTF for struct " << want.name;
  const btf_type* t = btf__type_by_id(b, id);
  EXPECT_EQ(t->size, want.size) << "sizeof differs";
  ASSERT_EQ(btf_vlen(t), want.fields.size()) << "member count differs";
  const btf_member* m = btf_members(t);
  for (size_t i = 0; i < want.fields.size(); ++i, ++m) {
    const Field& f = want.fields[i];
    EXPECT_EQ(btf__name_by_offset(b, m->name_off), f.name) << "member " << i;
    EXPECT_EQ(btf_member_bitfield_size(t, i), 0u) << f.name << " is a bitfield in C";
    EXPECT_EQ(btf_member_bit_offset(t, i), f.offset * 8) << "offsetof(" << f.name << ")";
    EXPECT_EQ(btf__resolve_size(b, m->type), long(f.size)) << "sizeof(" << f.name << ")";
  }
}

// The type a BTF-defined map declares for its key or value (`__type(key, T)`), by map name.
int map_kv_type(const btf* b, const char* map, const char* which) {
  const int var = btf__find_by_name_kind(b, map, BTF_KIND_VAR);
  if (var <= 0) return -1;
  const btf_type* def = btf__type_by_id(b, btf__resolve_type(b, btf__type_by_id(b, var)->type));
  if (!btf_is_struct(def)) return -1;
  const btf_member* m = btf_members(def);
  for (int i = 0; i < btf_vlen(def); ++i, ++m) {
    if (std::string(btf__name_by_offset(b, m->name_off)) != which) continue;
    const btf_type* ptr = btf__type_by_id(b, m->type);
    if (!btf_is_ptr(ptr)) return -1;
    return btf__resolve_type(b, ptr->type);
  }
  return -1;
}

void expect_map_type(const btf* b, const char* map, const char* which, const char* struct_name) {
  const int id = map_kv_type(b, map, which);
  ASSERT_GT(id, 0) << map << " has no BTF " << which;
  const btf_type* t = btf__type_by_id(b, id);
  EXPECT_TRUE(btf_is_struct(t)) << map << " " << which;
  EXPECT_EQ(std::string(btf__name_by_offset(b, t->name_off)), struct_name) << map << " " << which;
}

TEST(SharedLayout, XdpObjectMatchesCxx) {
  BtfPtr b = parse(LVS_BPF_XDP_OBJECT);
  ASSERT_TRUE(b) << "cannot read BTF of " << LVS_BPF_XDP_OBJECT;
  expect_layout(b.get(), kEndpoint, "lvs_xdp.bpf.o");
  expect_layout(b.get(), kIface, "lvs_xdp.bpf.o");
  expect_layout(b.get(), kConfig, "lvs_xdp.bpf.o");
  expect_map_type(b.get(), "lvs_config", "value", "lvs_config");
  expect_map_type(b.get(), "lvs_services", "key", "lvs_endpoint");
  expect_map_type(b.get(), "lvs_backends", "key", "lvs_endpoint");
  expect_map_type(b.get(), "lvs_ifaces", "value", "lvs_iface");
}

TEST(SharedLayout, StealObjectMatchesCxx) {
  BtfPtr b = parse(LVS_BPF_STEAL_OBJECT);
  ASSERT_TRUE(b) << "cannot read BTF of " << LVS_BPF_STEAL_OBJECT;
  expect_layout(b.get(), kEndpoint, "lvs_steal.bpf.o");
  expect_layout(b.get(), kConfig, "lvs_steal.bpf.o");
  expect_map_type(b.get(), "lvs_services", "key", "lvs_endpoint");
  expect_map_type(b.get(), "lvs_backends", "key", "lvs_endpoint");
}

// The checker itself must be able to fail: a layout that differs by one offset is reported.
TEST(SharedLayout, CheckerCatchesDrift) {
  BtfPtr b = parse(LVS_BPF_XDP_OBJECT);
  ASSERT_TRUE(b);
  Layout wrong = kIface;
  wrong.fields[1].offset = 2;
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    expect_layout(b.get(), wrong, "lvs_xdp.bpf.o");
  }
  ASSERT_EQ(failures.size(), 1);
  EXPECT_NE(std::string(failures.GetTestPartResult(0).message()).find("offsetof(flags)"),
            std::string::npos);
}

}  // namespace
