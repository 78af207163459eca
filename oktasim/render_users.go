package oktasim

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Stream keys for per-user procedural attributes (separate from the state stream
// so adding a field to one never shifts the other).
const (
	streamProfile     = 0x70726f66
	streamProfileMut  = 0x6d757461
	streamCreds       = 0x63726564
	streamFactors     = 0x66616374
	streamProfileAttr = 0x70617474 // values of churn-added custom attributes
)

// attr is one profile attribute value.
type attr struct {
	key  string
	kind uint8 // aStr, aNull, aInt, aBool, aArr
	s    string
	n    int64
	arr  []string
}

const (
	aStr uint8 = iota
	aNull
	aInt
	aBool
	aArr
)

// renderer writes objects of one org into a jw with a given link base URL.
// Not safe for concurrent use; one per request.
type renderer struct {
	o     *org
	lb    string // base URL for _links in bodies
	w     *jw
	attrs []attr
}

var foldMap = map[rune]string{'é': "e", 'è': "e", 'ë': "e", 'ö': "o", 'ø': "o", 'Ø': "o", 'ü': "u",
	'ß': "ss", 'á': "a", 'í': "i", 'ó': "o", 'ú': "u", 'ñ': "n", 'ç': "c", 'Ö': "o", 'Ü': "u", 'Ä': "a", 'ä': "a",
	'É': "e", 'Å': "a", 'å': "a", 'Æ': "ae", 'æ': "ae"}

// fold lowercases a name to ASCII letters for logins (Zoë -> zoe, O'Brien -> obrien).
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 32)
		case r >= utf8.RuneSelf:
			b.WriteString(foldMap[r])
		}
	}
	return b.String()
}

func (o *org) userNames(i int) (first, last string) {
	r := newRng(o.seed, streamProfile, uint64(i))
	return pick(r, firstNames), pick(r, lastNames)
}

func (o *org) userLogin(i int) string {
	f, l := o.userNames(i)
	return fold(f) + "." + fold(l) + itoa(i+1) + "@" + orgDomain
}

func (o *org) userDisplayName(i int) string {
	f, l := o.userNames(i)
	return f + " " + l
}

// userProfile fills dst with user i's profile attributes in output order.
func (o *org) userProfile(i int, dst []attr) []attr {
	u := &o.users[i]
	r := newRng(o.seed, streamProfile, uint64(i))
	first, last := pick(r, firstNames), pick(r, lastNames)
	pl := places[r.intn(len(places))]
	fl := fold(first) + "." + fold(last)
	login := fl + itoa(i+1) + "@" + orgDomain
	mv := newRng(o.seed, streamProfileMut, uint64(i)<<16|uint64(u.rev))
	dept := pick(mv, departments)
	title := pick(mv, titles)
	s := func(k, v string) { dst = append(dst, attr{key: k, s: v}) }
	null := func(k string) { dst = append(dst, attr{key: k, kind: aNull}) }
	dst = dst[:0]
	s("firstName", first)
	s("lastName", last)
	if r.chance(0.12) {
		s("middleName", string(pick(r, []string{"A.", "J.", "Marie", "Lee", "K."})))
	}
	if r.chance(0.1) {
		s("honorificPrefix", pick(r, []string{"Dr.", "Mx.", "Ms.", "Mr."}))
	}
	if r.chance(0.05) {
		s("honorificSuffix", pick(r, []string{"PhD", "Jr.", "III", "MBA"}))
	}
	if r.chance(0.15) {
		s("nickName", first[:min(len(first), 3)])
	}
	s("displayName", first+" "+last)
	if r.chance(0.3) {
		s("secondEmail", fl+"@mail.example.net")
	} else {
		null("secondEmail")
	}
	s("login", login)
	s("email", login)
	if mv.chance(0.7) {
		s("mobilePhone", "+1 415-555-"+pad4(mv.intn(10000)))
	} else {
		null("mobilePhone")
	}
	if r.chance(0.4) {
		s("primaryPhone", "+1 650-555-"+pad4(r.intn(10000)))
	}
	if r.chance(0.6) {
		s("streetAddress", pl.street)
		s("city", pl.city)
		s("state", pl.state)
		s("zipCode", pl.zip)
		s("countryCode", pl.country)
		if r.chance(0.4) {
			s("postalAddress", pl.street+", "+pl.city+" "+pl.zip)
		}
	}
	s("preferredLanguage", pl.lang)
	s("locale", pl.locale)
	s("timezone", pl.tz)
	s("userType", []string{"Employee", "Contractor", "Partner"}[u.typ])
	s("employeeNumber", itoa(10000+i))
	s("costCenter", "CC-"+itoa(100+r.intn(60)))
	s("organization", pick(r, organizations))
	s("division", pick(r, divisions))
	s("department", dept)
	s("title", title)
	if i > 0 && r.chance(0.85) {
		m := r.intn(i)
		s("manager", o.userDisplayName(m))
		s("managerId", o.ids.id(kUser, m))
	}
	if r.chance(0.1) {
		s("profileUrl", "https://intranet.example.com/people/"+fl)
	}
	// Custom attributes: present for some users only, with a mix of types.
	if r.chance(0.6) {
		s("keyGuid", string(appendUUID(nil, o.seed, 0x67756964, uint64(i))))
	}
	if r.chance(0.3) {
		s("keyGrPerson", "GRP-"+pad4(r.intn(10000)))
	}
	if r.chance(0.7) {
		d := u.created + int64(r.intn(30))*day
		s("startDate", fmtTS(d)[:10])
	}
	if r.chance(0.4) {
		dst = append(dst, attr{key: "badgeNumber", kind: aInt, n: int64(100000 + r.intn(900000))})
	}
	if dept == "Engineering" && r.chance(0.7) {
		s("githubUsername", strings.ReplaceAll(fl, ".", "-"))
	}
	if r.chance(0.35) {
		n := 1 + r.intn(3)
		arr := make([]string, 0, n)
		for range n {
			v := pick(r, skills)
			if !containsStr(arr, v) {
				arr = append(arr, v)
			}
		}
		dst = append(dst, attr{key: "skills", kind: aArr, arr: arr})
	}
	switch u.typ {
	case 1:
		dst = append(dst, attr{key: "isContractor", kind: aBool, n: 1})
		s("contractEndDate", fmtTS(o.t0 + int64(30+r.intn(300))*day)[:10])
	case 2:
		s("partnerCompany", pick(r, []string{"Initech", "Globex", "Umbrella Partners", "Hooli"}))
	}
	if r.chance(0.2) {
		dst = append(dst, attr{key: "officeFloor", kind: aInt, n: int64(1 + r.intn(30))})
	}
	// Attributes added by churn: a user without a value has no key, as Okta
	// leaves out a custom attribute never set on a user (okta-sdk-python#263);
	// null only comes back once a set value is cleared, which churn never does.
	for k := range o.profileAttrs {
		pa := &o.profileAttrs[k]
		v, ok := pa.values[int32(i)]
		if !ok {
			continue
		}
		// A name the generator already uses for some users takes the new value.
		if j := slices.IndexFunc(dst, func(a attr) bool { return a.key == pa.name }); j >= 0 {
			dst[j] = attr{key: pa.name, s: v}
		} else {
			s(pa.name, v)
		}
	}
	return dst
}

func containsStr(xs []string, v string) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func pad4(n int) string {
	s := itoa(n)
	return strings.Repeat("0", 4-len(s)) + s
}

func writeAttrs(w *jw, attrs []attr) {
	for _, a := range attrs {
		w.k(a.key)
		switch a.kind {
		case aStr:
			w.str(a.s)
		case aNull:
			w.null()
		case aInt:
			w.int(a.n)
		case aBool:
			w.bool(a.n != 0)
		case aArr:
			w.arr()
			for _, v := range a.arr {
				w.str(v)
			}
			w.endArr()
		}
	}
}

// userProvider returns credentials.provider type and name for user i.
func (o *org) userProvider(i int) (typ, name string) {
	r := newRng(o.seed, streamCreds, uint64(i))
	switch x := r.float(); {
	case x < 0.82:
		return "OKTA", "OKTA"
	case x < 0.92:
		return "ACTIVE_DIRECTORY", "corp.example.com"
	case x < 0.96:
		return "FEDERATION", "FEDERATION"
	case x < 0.98:
		return "SOCIAL", "Google Workspace"
	}
	return "IMPORT", "IMPORT"
}

// writeUser renders user i. full adds the lifecycle _links that only
// GET /users/{id} returns (collections carry only self).
func (rd *renderer) writeUser(i int, full bool) {
	o, w := rd.o, rd.w
	u := &o.users[i]
	id := o.ids.id(kUser, i)
	self := rd.lb + "/api/v1/users/" + id
	w.obj()
	w.ks("id", id)
	w.ks("status", userStatusName[u.status])
	w.kt("created", u.created)
	w.kt("activated", u.activated)
	w.kt("statusChanged", u.statusChanged)
	w.kt("lastLogin", u.lastLogin)
	w.kt("lastUpdated", u.lastUpdated)
	w.kt("passwordChanged", u.passwordChanged)
	if u.transitioning {
		w.ks("transitioningToStatus", "ACTIVE")
	}
	w.ko("type").ks("id", o.ids.id(kUserType, int(u.typ))).end()
	rd.attrs = o.userProfile(i, rd.attrs)
	w.ko("profile")
	writeAttrs(w, rd.attrs)
	w.end()
	var email, second string
	for _, a := range rd.attrs {
		switch {
		case a.key == "email":
			email = a.s
		case a.key == "secondEmail" && a.kind == aStr:
			second = a.s
		}
	}
	rd.writeUserCredentials(i, email, second)
	w.ko("_links")
	if full {
		rd.writeUserLifecycleLinks(i, self)
	}
	w.href("self", self)
	w.end()
	w.end()
}

func (rd *renderer) writeUserCredentials(i int, email, second string) {
	o, w := rd.o, rd.w
	u := &o.users[i]
	r := newRng(o.seed, streamCreds, uint64(i))
	r.next() // the provider draw (see userProvider)
	ptype, pname := o.userProvider(i)
	hasPassword := (ptype == "OKTA" || ptype == "IMPORT") && u.status != stStaged && u.status != stProvisioned
	w.ko("credentials")
	if hasPassword {
		w.ko("password")
		if ptype == "IMPORT" {
			w.ko("hash").ks("algorithm", "BCRYPT").ki("workFactor", 10).
				ks("salt", b64id(o.seed, 0x73616c74, uint64(i), 22)).
				ks("value", b64id(o.seed, 0x68617368, uint64(i), 31)).end()
		}
		w.end()
	}
	w.ka("emails")
	st := "VERIFIED"
	if u.status == stStaged || u.status == stProvisioned {
		st = "UNVERIFIED"
	}
	w.obj().ks("value", email).ks("status", st).ks("type", "PRIMARY").end()
	if second != "" {
		st2 := "VERIFIED"
		if r.chance(0.3) {
			st2 = "UNVERIFIED"
		}
		w.obj().ks("value", second).ks("status", st2).ks("type", "SECONDARY").end()
	}
	w.endArr()
	if hasPassword && r.chance(0.6) {
		w.ko("recovery_question").ks("question", pick(r, recoveryQuestions)).end()
	}
	w.ko("provider").ks("type", ptype).ks("name", pname).end()
	w.end()
}

func (rd *renderer) writeUserLifecycleLinks(i int, self string) {
	o, w := rd.o, rd.w
	u := &o.users[i]
	post := func(name, path string) {
		w.ko(name).ks2("href", self, path).ks("method", "POST").end()
	}
	switch u.status {
	case stStaged, stProvisioned:
		post("activate", "/lifecycle/activate")
		post("deactivate", "/lifecycle/deactivate")
	case stDeprovisioned:
		post("activate", "/lifecycle/activate")
	case stSuspended:
		post("unsuspend", "/lifecycle/unsuspend")
		post("deactivate", "/lifecycle/deactivate")
	case stLockedOut:
		post("unlock", "/lifecycle/unlock")
		post("deactivate", "/lifecycle/deactivate")
	default:
		post("suspend", "/lifecycle/suspend")
		post("resetPassword", "/lifecycle/reset_password")
		post("expirePassword", "/lifecycle/expire_password")
		post("forgotPassword", "/credentials/forgot_password")
		post("changeRecoveryQuestion", "/credentials/change_recovery_question")
		post("changePassword", "/credentials/change_password")
		post("resetFactors", "/lifecycle/reset_factors")
		post("deactivate", "/lifecycle/deactivate")
	}
	tid := o.ids.id(kUserType, int(u.typ))
	// The schema of user type otyX is oscX, as the user type's own links say.
	w.href2("schema", rd.lb, "/api/v1/meta/schemas/user/osc"+tid[3:])
	w.href2("type", rd.lb, "/api/v1/meta/types/user/"+tid)
}

// userAttr returns a searchable attribute of user i: value, unix-ms for dates,
// whether it is a date, and whether it is present.
func (rd *renderer) userAttr(i int, name string) (string, int64, bool, bool) {
	o := rd.o
	u := &o.users[i]
	date := func(ms int64) (string, int64, bool, bool) { return "", ms, true, ms != 0 }
	switch name {
	case "id":
		return o.ids.id(kUser, i), 0, false, true
	case "status":
		return userStatusName[u.status], 0, false, true
	case "created":
		return date(u.created)
	case "activated":
		return date(u.activated)
	case "statusChanged":
		return date(u.statusChanged)
	case "lastUpdated":
		return date(u.lastUpdated)
	case "lastLogin":
		return date(u.lastLogin)
	case "passwordChanged":
		return date(u.passwordChanged)
	case "type.id":
		return o.ids.id(kUserType, int(u.typ)), 0, false, true
	}
	if key, ok := strings.CutPrefix(name, "profile."); ok {
		rd.attrs = o.userProfile(i, rd.attrs)
		for _, a := range rd.attrs {
			if a.key != key {
				continue
			}
			switch a.kind {
			case aStr:
				return a.s, 0, false, true
			case aInt:
				return itoa(int(a.n)), 0, false, true
			case aBool:
				if a.n != 0 {
					return "true", 0, false, true
				}
				return "false", 0, false, true
			case aArr:
				return strings.Join(a.arr, "\x00"), 0, false, true
			}
			return "", 0, false, false
		}
	}
	return "", 0, false, false
}

// writeUserType renders user type t.
func (rd *renderer) writeUserType(t int) {
	o, w := rd.o, rd.w
	d := userTypeDefs[t]
	id := o.ids.id(kUserType, t)
	created := o.birth + int64(t)*30*day
	w.obj()
	w.ks("id", id).ks("displayName", d.display).ks("name", d.name).ks("description", d.desc)
	w.ks("createdBy", o.ids.id(kUser, 0)).ks("lastUpdatedBy", o.ids.id(kUser, 0))
	w.kt("created", created).kt("lastUpdated", created+int64(t+1)*7*day)
	w.kb("default", t == 0)
	w.ko("_links")
	w.ko("schema").ks("rel", "schema").ks("href", rd.lb+"/api/v1/meta/schemas/user/osc"+id[3:]).ks("method", "GET").end()
	w.ko("self").ks("rel", "self").ks("href", rd.lb+"/api/v1/meta/types/user/"+id).ks("method", "GET").end()
	w.end()
	w.end()
}

// factorKinds are the factor types a user may have, with their id kinds.
var factorKinds = []struct {
	typ, provider string
	k             kind
}{
	{"email", "OKTA", kFactorEmail},
	{"sms", "OKTA", kFactorSMS},
	{"push", "OKTA", kFactorPush},
	{"token:software:totp", "GOOGLE", kFactorTOTP},
	{"question", "OKTA", kFactorQuestion},
	{"webauthn", "FIDO", kFactorWebAuthn},
}

// userFactors returns the factor kind indices enrolled by user i.
func (o *org) userFactors(i int) []int {
	u := &o.users[i]
	if u.status == stStaged || u.status == stProvisioned {
		return nil
	}
	r := newRng(o.seed, streamFactors, uint64(i))
	var out []int
	for k := range factorKinds {
		p := []float64{0.9, 0.5, 0.6, 0.25, 0.3, 0.15}[k]
		if r.chance(p) {
			out = append(out, k)
		}
	}
	return out
}

func (rd *renderer) writeFactor(i, k int) {
	o, w := rd.o, rd.w
	f := factorKinds[k]
	r := newRng(o.seed, streamFactors+1+uint64(k), uint64(i))
	uid := o.ids.id(kUser, i)
	id := o.ids.id(f.k, i)
	start := max(o.users[i].activated, o.users[i].created)
	created := between(r, start, max(start, o.t0))
	pending := k == 2 && r.chance(0.08)
	provider := f.provider
	if f.typ == "token:software:totp" && r.chance(0.5) {
		provider = "OKTA"
	}
	w.obj()
	w.ks("id", id).ks("factorType", f.typ).ks("provider", provider).ks("vendorName", provider)
	if pending {
		w.ks("status", "PENDING_ACTIVATION")
	} else {
		w.ks("status", "ACTIVE")
	}
	w.kt("created", created).kt("lastUpdated", recentBiased(r, created, max(created, o.t0)))
	w.ko("profile")
	login := o.userLogin(i)
	switch f.typ {
	case "email":
		w.ks("email", login)
	case "sms":
		w.ks("phoneNumber", "+1415555"+pad4(r.intn(10000)))
	case "push":
		w.ks("credentialId", login).ks("deviceType", "SmartPhone_IPhone").ks("name", "iPhone").
			ks("platform", "IOS").ks("version", "18.1")
	case "token:software:totp":
		w.ks("credentialId", login)
	case "question":
		w.ks("question", "disliked_food").ks("questionText", recoveryQuestions[0])
	case "webauthn":
		w.ks("credentialId", b64id(o.seed, 0x7765626e, uint64(i), 43)).ks("authenticatorName", "MacBook Pro Touch ID")
	}
	w.end()
	if pending {
		w.ko("_embedded").ko("activation").kt("expiresAt", max(created, o.t0)+7*day).ks("factorResult", "WAITING").end().end()
	}
	w.ko("_links")
	w.ko("self").ks("href", rd.lb+"/api/v1/users/"+uid+"/factors/"+id).ko("hints").strs("allow", "GET", "DELETE").end().end()
	w.ko("verify").ks("href", rd.lb+"/api/v1/users/"+uid+"/factors/"+id+"/verify").ko("hints").strs("allow", "POST").end().end()
	w.ko("user").ks("href", rd.lb+"/api/v1/users/"+uid).ko("hints").strs("allow", "GET").end().end()
	w.end()
	w.end()
}

// enrollment kinds for /users/{id}/authenticator-enrollments.
var enrollKinds = []struct {
	typ, key, name string
	k              kind
}{
	{"email", "okta_email", "Email", kEnrollEmail},
	{"password", "okta_password", "Password", kEnrollPassword},
	{"phone", "phone_number", "Phone", kEnrollPhone},
	{"app", "okta_verify", "Okta Verify", kEnrollApp},
	{"security_question", "security_question", "Security Question", kEnrollQuestion},
}

func (o *org) userEnrollments(i int) []int {
	u := &o.users[i]
	if u.status == stStaged || u.status == stProvisioned {
		return nil
	}
	fs := o.userFactors(i)
	has := func(k int) bool { return containsInt(fs, k) }
	out := []int{0}
	if pt, _ := o.userProvider(i); pt == "OKTA" || pt == "IMPORT" {
		out = append(out, 1)
	}
	if has(1) {
		out = append(out, 2)
	}
	if has(2) {
		out = append(out, 3)
	}
	if has(4) {
		out = append(out, 4)
	}
	return out
}

func (rd *renderer) writeEnrollment(i, k int) {
	o, w := rd.o, rd.w
	e := enrollKinds[k]
	r := newRng(o.seed, 0x656e726c+uint64(k), uint64(i))
	uid := o.ids.id(kUser, i)
	id := o.ids.id(e.k, i)
	start := max(o.users[i].activated, o.users[i].created)
	created := between(r, start, max(start, o.t0))
	w.obj()
	w.ks("type", e.typ).ks("key", e.key).ks("id", id).ks("status", "ACTIVE").ks("name", e.name)
	switch e.typ {
	case "app":
		w.ks("nickname", "iPhone 15")
	case "phone":
		w.ks("nickname", "Work phone")
	default:
		w.kn("nickname")
	}
	w.kt("created", created).kt("lastUpdated", recentBiased(r, created, max(created, o.t0)))
	w.ko("profile")
	switch e.typ {
	case "email":
		w.ks("email", o.userLogin(i))
	case "phone":
		w.ks("phoneNumber", "+1 XXX-XXX-"+pad4(r.intn(10000)))
	case "app":
		w.ks("deviceName", "iPhone 15").ks("platform", "IOS")
	case "security_question":
		w.ks("question", recoveryQuestions[0])
	}
	w.end()
	w.ko("_links")
	w.ko("self").ks("href", rd.lb+"/api/v1/users/"+uid+"/authenticator-enrollments/"+id).ko("hints").strs("allow", "GET", "DELETE").end().end()
	w.ko("authenticator").ks("href", rd.lb+"/api/v1/authenticators/aut"+id[3:]).ko("hints").strs("allow", "GET").end().end()
	w.ko("user").ks("href", rd.lb+"/api/v1/users/"+uid).ko("hints").strs("allow", "GET").end().end()
	w.end()
	w.end()
}
