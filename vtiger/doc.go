// Package vtiger is everything the daemon knows about Vtiger CRM's own
// tables: users, modules, login history, reports, report schedules and the
// people a scheduled report is mailed to. It only reads them; the daemon
// never writes a Vtiger table.
//
// Recipient resolution reimplements, in Go, what Vtiger 8's cron does in
// Reports_ScheduleReports_Model::getRecipientEmails
// (modules/Reports/models/ScheduleReports.php) together with the helpers it
// calls: GetGroupUsers::getAllUsersInGroup (include/utils/GetGroupUsers.php),
// getRoleUsers and getRoleAndSubordinateUsers (include/utils/UserInfoUtil.php),
// Vtiger_Util_Helper::isUserDeleted (modules/Vtiger/helpers/Util.php),
// getUserEmail (include/utils/utils.php), getUserFullName
// (Vtiger_Functions::getUserRecordLabel) and the address handling of the
// bundled PHPMailer 5.2 (trim, an '@' required, no address twice regardless
// of case). See ResolveRecipients for the rules and their quirks.
package vtiger
