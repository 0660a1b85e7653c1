#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "registration_store.h"
#include "registration_table.h"
#include "unique_fd.h"

namespace sipmasq {
namespace {

Binding make(const std::string& aor, const std::string& contact, int64_t expires_at,
             const char* source = "192.0.2.10:5060") {
    Binding b;
    b.aor = aor;
    b.contact = contact;
    b.source = *SockAddr::parse(source);
    b.token = contact_token(contact);
    b.masq_contact = "sip:alice@203.0.113.1:5060;smq=" + b.token;
    b.expires_at = expires_at;
    b.call_id = "a84b4c76e66710@192.0.2.10";
    b.cseq = 1;
    return b;
}

TEST(RegistrationTable, AddRefreshRemove) {
    RegistrationTable t;
    auto ev = t.upsert(make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060", 1000));
    EXPECT_EQ(ev.change, RegistrationTable::Change::Added);
    EXPECT_EQ(t.size(), 1u);
    ev = t.upsert(make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060", 2000));
    EXPECT_EQ(ev.change, RegistrationTable::Change::Refreshed);
    EXPECT_EQ(t.size(), 1u);
    ASSERT_EQ(t.lookup("alice@203.0.113.1", 1500).size(), 1u);
    EXPECT_EQ(t.lookup("alice@203.0.113.1", 1500)[0]->expires_at, 2000);
    EXPECT_TRUE(t.remove("alice@203.0.113.1", "sip:alice@192.0.2.10:5060").has_value());
    EXPECT_FALSE(t.remove("alice@203.0.113.1", "sip:alice@192.0.2.10:5060").has_value());
    EXPECT_EQ(t.size(), 0u);
    EXPECT_TRUE(t.lookup("alice@203.0.113.1", 0).empty());
}

TEST(RegistrationTable, SeveralContactsNewestFirstAndStar) {
    RegistrationTable t;
    t.upsert(make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060", 1000));
    t.upsert(make("alice@203.0.113.1", "sip:alice@192.0.2.11:5062", 1000, "192.0.2.11:5062"));
    t.upsert(make("carol@203.0.113.1", "sip:carol@192.0.2.20", 1000));
    auto live = t.lookup("alice@203.0.113.1", 10);
    ASSERT_EQ(live.size(), 2u);
    EXPECT_EQ(live[0]->contact, "sip:alice@192.0.2.11:5062");
    t.upsert(make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060", 1000));
    live = t.lookup("alice@203.0.113.1", 10);
    EXPECT_EQ(live[0]->contact, "sip:alice@192.0.2.10:5060");
    auto removed = t.remove_all("alice@203.0.113.1");
    EXPECT_EQ(removed.size(), 2u);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.lookup("carol@203.0.113.1", 10).size(), 1u);
}

TEST(RegistrationTable, ExpiryWithTheClock) {
    RegistrationTable t;
    t.upsert(make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060", 100));
    t.upsert(make("bob@203.0.113.1", "sip:bob@192.0.2.12", 200));
    EXPECT_EQ(t.next_expiry(), 100);
    EXPECT_TRUE(t.expire(99).empty());
    EXPECT_TRUE(t.lookup("alice@203.0.113.1", 100).empty());  // dead at 100 even before expire()
    auto gone = t.expire(100);
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_EQ(gone[0].aor, "alice@203.0.113.1");
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.next_expiry(), 200);
    EXPECT_EQ(t.expire(1000).size(), 1u);
    EXPECT_EQ(t.size(), 0u);
    EXPECT_FALSE(t.next_expiry().has_value());
}

TEST(RegistrationTable, LookupByToken) {
    RegistrationTable t;
    const Binding b = make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060", 100);
    t.upsert(b);
    const Binding* found = t.find_by_token(b.token, 50);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->contact, "sip:alice@192.0.2.10:5060");
    EXPECT_EQ(t.find_by_token(b.token, 100), nullptr);  // expired
    EXPECT_EQ(t.find_by_token("0000000000000000", 50), nullptr);
    t.remove(b.aor, b.contact);
    EXPECT_EQ(t.find_by_token(b.token, 50), nullptr);
}

TEST(RegistrationTable, ProvisionalUntilConfirmed) {
    RegistrationTable t;
    Binding b = make("alice@sip.example.net", "sip:alice@192.0.2.10:5060", 32);
    b.mode = BindingMode::OutboundProxy;
    b.provisional = true;
    t.upsert(b);
    EXPECT_TRUE(t.lookup(b.aor, 10).empty());
    EXPECT_EQ(t.find_by_token(b.token, 10), nullptr);
    EXPECT_TRUE(t.confirm(b.aor, b.contact, 610));
    ASSERT_EQ(t.lookup(b.aor, 100).size(), 1u);
    EXPECT_NE(t.find_by_token(b.token, 100), nullptr);
    EXPECT_FALSE(t.confirm(b.aor, "sip:nobody@192.0.2.99", 610));
}

TEST(RegistrationTable, NoFixedLimit) {
    RegistrationTable t;
    for (int i = 0; i < 5000; ++i)
        t.upsert(make("u" + std::to_string(i) + "@203.0.113.1",
                      "sip:u" + std::to_string(i) + "@192.0.2.10", 100));
    EXPECT_EQ(t.size(), 5000u);
    EXPECT_EQ(t.lookup("u4999@203.0.113.1", 0).size(), 1u);
}

TEST(RegistrationTable, NormaliseAor) {
    EXPECT_EQ(normalise_aor("Alice", "EXAMPLE.org"), "Alice@example.org");
    EXPECT_NE(contact_token("sip:a@192.0.2.10"), contact_token("sip:a@192.0.2.11"));
    EXPECT_EQ(contact_token("sip:a@192.0.2.10").size(), 16u);
}

TEST(RegistrationStore, EscapeRoundTrip) {
    for (const char* s :
         {"", "-", "plain", "with space", "100%", "line\nbreak", "tab\tx", "\x01\x7f\xff"}) {
        std::string out;
        const std::string esc = store_escape(s);
        EXPECT_EQ(esc.find(' '), std::string::npos);
        EXPECT_EQ(esc.find('\n'), std::string::npos);
        ASSERT_TRUE(store_unescape(esc, out)) << esc;
        EXPECT_EQ(out, s);
    }
    std::string out;
    EXPECT_FALSE(store_unescape("%", out));
    EXPECT_FALSE(store_unescape("%4", out));
    EXPECT_FALSE(store_unescape("%zz", out));
    EXPECT_FALSE(store_unescape("", out));
}

class TempDir : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sipd_store_XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        path_ = tmpl;
        dir_ = UniqueFd(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(dir_.valid());
    }
    void TearDown() override {
        ::unlinkat(dir_.get(), "registrations", 0);
        ::unlinkat(dir_.get(), "registrations.tmp", 0);
        ::rmdir(path_.c_str());
    }
    std::string read_file() {
        std::ifstream in(path_ + "/registrations");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    void write_file(const std::string& text) {
        std::ofstream out(path_ + "/registrations");
        out << text;
    }
    std::string path_;
    UniqueFd dir_;
};

TEST_F(TempDir, SaveLoadRoundTrip) {
    RegistrationTable t;
    Binding a = make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060;transport=udp", 5000);
    a.call_id = "call id with spaces%";
    t.upsert(a);
    Binding b = make("bob@sip.example.net", "<odd> contact", 6000, "[2001:db8::5]:5070");
    b.mode = BindingMode::OutboundProxy;
    b.provisional = true;
    b.cseq = 77;
    t.upsert(b);
    ASSERT_EQ(save_registrations(dir_.get(), "registrations", t), 0);
    EXPECT_NE(::faccessat(dir_.get(), "registrations.tmp", F_OK, 0), 0);

    RegistrationTable loaded;
    auto r = load_registrations(dir_.get(), "registrations", loaded, 100);
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(r.loaded, 2u);
    EXPECT_EQ(r.skipped, 0u);
    const Binding* la = loaded.find(a.aor, a.contact);
    ASSERT_NE(la, nullptr);
    EXPECT_EQ(la->call_id, a.call_id);
    EXPECT_EQ(la->expires_at, 5000);
    EXPECT_EQ(la->source.to_string(), "192.0.2.10:5060");
    EXPECT_EQ(la->masq_contact, a.masq_contact);
    EXPECT_EQ(la->token, a.token);
    const Binding* lb = loaded.find(b.aor, b.contact);
    ASSERT_NE(lb, nullptr);
    EXPECT_EQ(lb->mode, BindingMode::OutboundProxy);
    EXPECT_TRUE(lb->provisional);
    EXPECT_EQ(lb->cseq, 77u);
    EXPECT_EQ(lb->source.to_string(), "[2001:db8::5]:5070");

    // Expired by the time of loading: dropped.
    RegistrationTable later;
    r = load_registrations(dir_.get(), "registrations", later, 5500);
    EXPECT_EQ(r.loaded, 1u);
    EXPECT_EQ(later.size(), 1u);
}

TEST_F(TempDir, MissingFile) {
    RegistrationTable t;
    auto r = load_registrations(dir_.get(), "registrations", t, 0);
    EXPECT_EQ(r.error, -ENOENT);
}

TEST_F(TempDir, CorruptLinesSkipped) {
    RegistrationTable t;
    t.upsert(make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060", 5000));
    std::string text = format_registrations(t);
    text += "B only three fields\n";
    text += "garbage\x01\xff line\n";
    text += "B a@b c 192.0.2.1:5060 - tok notanumber registrar 0 - 1\n";
    text += "B a@b c 999.0.2.1:5060 - tok 100 registrar 0 - 1\n";
    text += "B a@b c - - tok 100 weird 0 - 1\n";
    text += "B a@b c - - tok 100 registrar 2 - 1\n";
    text += "B a@b c - - tok 100 registrar 0 - 1 extra\n";
    text += "B a@b c%zz - - tok 100 registrar 0 - 1\n";
    text += "B noat c - - tok 100 registrar 0 - 1\n";
    text += "B carol@203.0.113.1 sip:carol@192.0.2.20 - - tok 9000 registrar 0 - 5";  // no \n
    write_file(text);
    RegistrationTable loaded;
    auto r = load_registrations(dir_.get(), "registrations", loaded, 0);
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(r.loaded, 2u);
    EXPECT_EQ(r.skipped, 9u);
    EXPECT_NE(loaded.find("carol@203.0.113.1", "sip:carol@192.0.2.20"), nullptr);
}

TEST_F(TempDir, OverwriteIsAtomicReplacement) {
    RegistrationTable t;
    t.upsert(make("alice@203.0.113.1", "sip:alice@192.0.2.10:5060", 5000));
    ASSERT_EQ(save_registrations(dir_.get(), "registrations", t), 0);
    t.clear();
    ASSERT_EQ(save_registrations(dir_.get(), "registrations", t), 0);
    EXPECT_EQ(read_file(), "sipmasq-registrations 1\n");
    EXPECT_LT(save_registrations(-1, "registrations", t), 0);
}

}  // namespace
}  // namespace sipmasq
