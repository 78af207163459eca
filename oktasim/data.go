package oktasim

// Word lists the generator draws from. Kept small and plain: realism comes from
// combining them per object with the object's own random stream.

const orgDomain = "example.com"

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "Mateo",
	"Isabella", "Lucas", "Mia", "Levi", "Charlotte", "Asher", "Harper", "James", "Evelyn", "Leo",
	"Luna", "Grayson", "Camila", "Ezra", "Sofia", "Luca", "Aria", "Ethan", "Scarlett", "Aiden",
	"Priya", "Arjun", "Mei", "Hiroshi", "Yuki", "Chen", "Fatima", "Omar", "Aisha", "Mohammed",
	"Zoë", "José", "Chloé", "Søren", "Björn", "Ana", "Diego", "Lucía", "Ngozi", "Kwame",
	"Ingrid", "Lars", "Freya", "Mateus", "Giulia", "Marco", "Anya", "Dmitri", "Sana", "Ravi",
	"Hannah", "Samuel", "Grace", "Daniel", "Chloe", "Henry", "Nora", "Jack", "Lily", "Owen",
	"Ellie", "Wyatt", "Zoe", "Julian", "Stella", "Gabriel", "Hazel", "Isaac", "Violet", "Caleb",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Nakamura", "Tanaka", "Wang", "Zhang", "Patel", "Singh", "Kumar", "Nguyen", "Kim", "Park",
	"Müller", "Schmidt", "Dubois", "Rossi", "Novak", "O'Brien", "Østergaard", "Kowalski", "Silva", "Santos",
	"Okafor", "Mensah", "Haddad", "Cohen", "Ivanova", "Lindqvist", "Van der Berg", "De Luca", "Murphy", "Walsh",
}

var departments = []string{"Engineering", "Sales", "Marketing", "Finance", "Human Resources", "Legal",
	"Customer Success", "IT", "Operations", "Product", "Security", "Support", "Design", "Data"}

var titles = []string{"Software Engineer", "Senior Software Engineer", "Staff Engineer", "Engineering Manager",
	"Account Executive", "Sales Engineer", "Marketing Manager", "Financial Analyst", "Recruiter",
	"Counsel", "Customer Success Manager", "IT Administrator", "Operations Analyst", "Product Manager",
	"Security Engineer", "Support Specialist", "Product Designer", "Data Scientist", "Director", "VP"}

var divisions = []string{"R&D", "Go-To-Market", "G&A", "Platform", "Field"}

var organizations = []string{"Example Corp", "Example Corp EMEA", "Example Corp APAC", "Example Labs"}

type place struct {
	city, state, zip, country, tz, locale, lang, street string
	lat, lon                                            float64
}

var places = []place{
	{"San Francisco", "CA", "94105", "US", "America/Los_Angeles", "en_US", "en", "100 Market St", 37.7749, -122.4194},
	{"New York", "NY", "10013", "US", "America/New_York", "en_US", "en", "55 Hudson St", 40.7128, -74.006},
	{"Austin", "TX", "78701", "US", "America/Chicago", "en_US", "en", "500 Congress Ave", 30.2672, -97.7431},
	{"Seattle", "WA", "98101", "US", "America/Los_Angeles", "en_US", "en", "1200 5th Ave", 47.6062, -122.3321},
	{"Toronto", "ON", "M6B", "CA", "America/Toronto", "en_CA", "en", "220 Yonge St", 43.6532, -79.3832},
	{"London", "England", "EC1A 1BB", "GB", "Europe/London", "en_GB", "en", "1 Finsbury Ave", 51.5074, -0.1278},
	{"Berlin", "Berlin", "10115", "DE", "Europe/Berlin", "de_DE", "de", "Friedrichstraße 68", 52.52, 13.405},
	{"Paris", "Île-de-France", "75002", "FR", "Europe/Paris", "fr_FR", "fr", "12 Rue de la Paix", 48.8566, 2.3522},
	{"Dublin", "Leinster", "D02", "IE", "Europe/Dublin", "en_IE", "en", "2 Grand Canal Sq", 53.3498, -6.2603},
	{"Tokyo", "Tokyo", "100-0005", "JP", "Asia/Tokyo", "ja_JP", "ja", "1-1 Marunouchi", 35.6762, 139.6503},
	{"Sydney", "NSW", "2000", "AU", "Australia/Sydney", "en_AU", "en", "1 Martin Pl", -33.8688, 151.2093},
	{"Bengaluru", "Karnataka", "560001", "IN", "Asia/Kolkata", "en_IN", "en", "24 MG Road", 12.9716, 77.5946},
	{"São Paulo", "SP", "01310-100", "BR", "America/Sao_Paulo", "pt_BR", "pt", "Av. Paulista 1000", -23.5505, -46.6333},
}

var recoveryQuestions = []string{"What is the food you least liked as a child?",
	"What was the name of your first pet?", "Who is your favorite fictional character?",
	"What is the name of a childhood friend?", "Where did you go on your first holiday?"}

var skills = []string{"go", "sql", "python", "kubernetes", "terraform", "react", "negotiation", "excel", "figma", "rust"}

var userTypeDefs = []struct{ name, display, desc string }{
	{"user", "User", "Okta user profile template with default permission settings"},
	{"contractor", "Contractor", "External contractors with limited access"},
	{"partner", "Partner", "Partner organization members"},
}

var groupBases = []string{"Engineering", "Sales", "Marketing", "Finance", "HR", "Legal", "Customer Success",
	"IT", "Operations", "Product", "Security", "Support", "Design", "Data", "Executives", "Contractors",
	"Interns", "Managers", "On-call", "Remote"}

var groupSuffixes = []string{"", " - EMEA", " - APAC", " - Americas", " Admins", " Leads", " Readers", " Approvers"}

var rolesStd = []struct{ typ, label string }{
	{RoleSuperAdmin, "Super Administrator"},
	{RoleOrgAdmin, "Organizational Administrator"},
	{RoleAppAdmin, "Application Administrator"},
	{RoleUserAdmin, "Group Administrator"},
	{RoleHelpDeskAdmin, "Help Desk Administrator"},
	{RoleReadOnlyAdmin, "Read Only Administrator"},
	{RoleMobileAdmin, "Mobile Administrator"},
	{RoleAPIAccessMgmtAdmin, "API Access Management Administrator"},
	{RoleReportAdmin, "Report Administrator"},
	{RoleGroupMembershipAdmin, "Group Membership Administrator"},
}

var customRoleDefs = []struct{ label, desc string }{
	{"UserCreator", "Create and manage users"},
	{"Help Desk Lite", "Reset passwords and unlock users"},
	{"App Auditor", "Read-only access to applications and assignments"},
	{"Group Push Operator", "Manage group memberships of delegated groups"},
	{"Device Steward", "Manage devices"},
	{"Policy Reviewer", "Read policies"},
}

var permissionLabels = []string{"okta.users.read", "okta.users.create", "okta.users.manage",
	"okta.users.credentials.resetPassword", "okta.users.lifecycle.unlock", "okta.groups.read",
	"okta.groups.members.manage", "okta.apps.read", "okta.apps.assignment.manage", "okta.devices.read",
	"okta.devices.manage", "okta.policies.read", "okta.users.userprofile.manage", "okta.groups.manage"}

var resourceSetDefs = []struct{ label, desc string }{
	{"Delegated groups", "Groups managed by regional help desks"},
	{"Business apps", "Applications owned by business teams"},
	{"All users and groups", "Org-wide directory resources"},
	{"Contractor directory", "Contractor groups"},
}

type appTemplate struct{ label, name, mode string }

// appCatalog: integrations the generator instantiates; name is Okta's app key.
var appCatalog = []appTemplate{
	{"Salesforce.com", "salesforce", "SAML_2_0"},
	{"Internal Portal", "oidc_client", "OPENID_CONNECT"},
	{"Company Wiki", "bookmark", "BOOKMARK"},
	{"Legacy Payroll", "template_swa", "AUTO_LOGIN"},
	{"Intranet", "template_basic_auth", "BASIC_AUTH"},
	{"Vendor Portal", "template_swa", "BROWSER_PLUGIN"},
	{"Shared Marketing Account", "template_sps", "SECURE_PASSWORD_STORE"},
	{"SharePoint On-Premises", "template_wsfed", "WS_FEDERATION"},
	{"Slack", "slack", "SAML_2_0"},
	{"Data Platform API", "oidc_client", "OPENID_CONNECT"},
	{"GitHub Enterprise Cloud", "githubcloud", "SAML_2_0"},
	{"Mobile App", "oidc_client", "OPENID_CONNECT"},
	{"Zoom", "zoom", "SAML_2_0"},
	{"Benefits Portal", "bookmark", "BOOKMARK"},
	{"Workday", "workday", "SAML_2_0"},
	{"Box", "boxnet", "SAML_2_0"},
	{"Atlassian Cloud", "atlassian", "SAML_2_0"},
	{"ServiceNow", "servicenow_app2", "SAML_2_0"},
	{"Expense Tracker", "oidc_client", "OPENID_CONNECT"},
	{"Zendesk", "zendesk", "SAML_2_0"},
	{"Datadog", "datadog", "SAML_2_0"},
	{"PagerDuty", "pagerduty", "SAML_2_0"},
	{"Snowflake", "snowflake", "SAML_2_0"},
	{"Analytics Dashboard", "oidc_client", "OPENID_CONNECT"},
	{"Tableau Online", "tableau_online", "SAML_2_0"},
	{"DocuSign", "docusign", "SAML_2_0"},
	{"Dropbox Business", "dropbox_for_business", "SAML_2_0"},
	{"Status Page", "bookmark", "BOOKMARK"},
}

var builtinApps = []appTemplate{
	{"Okta Admin Console", "saasure", "OPENID_CONNECT"},
	{"Okta Dashboard", "okta_enduser", "OPENID_CONNECT"},
	{"Okta Browser Plugin", "okta_browser_plugin", "OPENID_CONNECT"},
	{"corp.example.com", "active_directory", "AUTO_LOGIN"},
}

const appADIndex = 3 // the Active Directory integration that sources APP_GROUP groups

var policyTypes = []string{"OKTA_SIGN_ON", "PASSWORD", "MFA_ENROLL", "ACCESS_POLICY", "IDP_DISCOVERY",
	"PROFILE_ENROLLMENT", "ENTITY_RISK", "POST_AUTH_SESSION", "DEVICE_SIGNAL_COLLECTION",
	"SESSION_VIOLATION_DETECTION", "CLIENT_UPDATE", "IDENTITY_CLAIM_SOURCING"}

var policyRuleType = map[string]string{"OKTA_SIGN_ON": "SIGN_ON", "PASSWORD": "PASSWORD",
	"MFA_ENROLL": "MFA_ENROLL", "ACCESS_POLICY": "ACCESS_POLICY", "IDP_DISCOVERY": "IDP_DISCOVERY",
	"PROFILE_ENROLLMENT": "PROFILE_ENROLLMENT", "ENTITY_RISK": "ENTITY_RISK",
	"POST_AUTH_SESSION": "POST_AUTH_SESSION", "DEVICE_SIGNAL_COLLECTION": "DEVICE_SIGNAL_COLLECTION",
	"SESSION_VIOLATION_DETECTION": "SESSION_VIOLATION_DETECTION", "CLIENT_UPDATE": "CLIENT_UPDATE",
	"IDENTITY_CLAIM_SOURCING": "IDENTITY_CLAIM_SOURCING"}

var idpDefs = []idpDef{
	{"GOOGLE", "Google Workspace", "OIDC", "https://accounts.google.com", 0},
	{"MICROSOFT", "Microsoft Entra ID", "OIDC", "https://login.microsoftonline.com/common/v2.0", 0},
	{"SAML2", "Partner SAML IdP", "SAML2", "https://idp.partner.example/saml", 0},
	{"OIDC", "Contractor OIDC", "OIDC", "https://auth.contractor.example", 0},
	{"FACEBOOK", "Facebook", "OAUTH2", "https://www.facebook.com", 0},
}

type uaDef struct{ raw, os, browser string }

var userAgents = []uaDef{
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Mac OS X", "CHROME"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Windows 10", "EDGE"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Windows 10", "FIREFOX"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "iOS", "MOBILE_SAFARI"},
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Android", "CHROME"},
	{"okta-sdk-golang/2.20.0 golang/go1.22.0 linux/amd64", "Linux", "UNKNOWN"},
	{"Okta Verify/9.30.0 (iPhone; iOS 18.1)", "iOS", "UNKNOWN"},
}

type ispDef struct {
	asn            int64
	org, isp, domn string
	proxy          string // "": none; else the proxy type (ANONYMIZER, VPN, TOR, HOSTING)
}

// backgroundISPs is how many of isps the background draws addresses from
// (consumer and business access networks, no proxies); the rest are hosting
// providers, VPNs and anonymisers, which scenarios use.
const backgroundISPs = 6

var isps = []ispDef{
	{7922, "comcast", "comcast cable communications llc", "comcast.net", ""},
	{701, "verizon", "verizon business", "verizon.net", ""},
	{16509, "amazon.com", "amazon.com inc.", "amazonaws.com", ""},
	{3320, "deutsche telekom ag", "deutsche telekom ag", "t-ipconnect.de", ""},
	{2856, "british telecommunications plc", "british telecommunications plc", "bt.net", ""},
	{4713, "ntt communications", "ntt communications corporation", "ocn.ne.jp", ""},
	{14061, "digitalocean, llc", "digitalocean llc", "digitalocean.com", "HOSTING"},
	{16276, "ovh sas", "ovh sas", "ovh.net", "HOSTING"},
	{9009, "m247 europe srl", "m247 ltd", "m247.com", "VPN"},
	{60068, "datacamp limited", "cdn77", "cdn77.com", "ANONYMIZER"},
	{208323, "foundation for applied privacy", "applied privacy", "applied-privacy.net", "TOR"},
	{212238, "datacamp limited", "datacamp limited", "datacamp.co.uk", "ANONYMIZER"},
}

// farPlaces are where scenario attackers and travellers come from.
var farPlaces = []place{
	{"Lagos", "Lagos", "100001", "NG", "Africa/Lagos", "en_NG", "en", "", 6.5244, 3.3792},
	{"Bucharest", "Bucuresti", "010011", "RO", "Europe/Bucharest", "ro_RO", "ro", "", 44.4268, 26.1025},
	{"Singapore", "Singapore", "018956", "SG", "Asia/Singapore", "en_SG", "en", "", 1.3521, 103.8198},
	{"Hanoi", "Hanoi", "100000", "VN", "Asia/Ho_Chi_Minh", "vi_VN", "vi", "", 21.0278, 105.8342},
	{"Amsterdam", "North Holland", "1012", "NL", "Europe/Amsterdam", "nl_NL", "nl", "", 52.3676, 4.9041},
	{"Frankfurt am Main", "Hesse", "60313", "DE", "Europe/Berlin", "de_DE", "de", "", 50.1109, 8.6821},
}

var deviceModels = []struct {
	platform, manufacturer, model, display, os string
}{
	{"MACOS", "APPLE", "MacBookPro18,3", "MacBook Pro 14", "14.6.1"},
	{"MACOS", "APPLE", "Mac14,2", "MacBook Air", "15.1"},
	{"WINDOWS", "LENOVO", "20XW0026US", "DESKTOP-", "10.0.22631"},
	{"WINDOWS", "DELL INC.", "Latitude 7440", "LAPTOP-", "10.0.19045"},
	{"IOS", "APPLE", "iPhone15,2", "iPhone", "18.1"},
	{"ANDROID", "GOOGLE", "Pixel 8", "Pixel 8", "14"},
	{"ANDROID", "SAMSUNG", "SM-S918B", "Galaxy S23 Ultra", "14"},
}
